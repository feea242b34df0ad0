"""Who may sign requests to the local gateway, and who they are: the stage's own key (the
account's root, as the tooling signs) and the access keys of IAM users created in the
emulator, read from its IAM backend (local_stage.emulator.backends) at each lookup, so a user
or key made, deactivated or deleted a moment ago counts at once."""

from typing import Any

from local_stage.contract import ACCOUNT_ID
from local_stage.emulator.backends import iam_user, iam_user_access_key


class Principals:
    """A mapping of access key id -> secret (what `local_stage.sigv4.verify` reads), and the
    identity API Gateway puts in `requestContext.authorizer.iam` for a verified key."""

    def __init__(self, root_keys: dict[str, str]) -> None:
        self._root = dict(root_keys)

    def get(self, access_key: str, /) -> str | None:
        if access_key in self._root:
            return self._root[access_key]
        key = iam_user_access_key(access_key)
        return key.secret_access_key if key is not None else None

    def identity(self, access_key: str) -> dict[str, Any]:
        key = None if access_key in self._root else iam_user_access_key(access_key)
        if key is None:
            arn, user_id = f"arn:aws:iam::{ACCOUNT_ID}:root", ACCOUNT_ID
        else:
            user = iam_user(key.user_name)
            arn, user_id = user.arn, user.id
        return {
            "accessKey": access_key,
            "accountId": ACCOUNT_ID,
            "callerId": user_id,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": arn,
            "userId": user_id,
        }
