"""Who may sign requests to the local gateway, and who they are: the stage's own key (the
account's root, as the tooling signs), the access keys of IAM users created in the emulator,
and the temporary credentials of roles assumed there (AssumeRole against the emulator), read
from its backends (local_stage.emulator.backends) at each lookup, so a user, key or session
made, deactivated, deleted or expired a moment ago counts at once. Each is reported the way
API Gateway reports it: a role session's userArn names the session, its userId is
ROLE-ID:SESSION."""

from typing import Any

from local_stage.contract import ACCOUNT_ID
from local_stage.emulator.backends import assumed_role, iam_user, iam_user_access_key


class Principals:
    """A mapping of access key id -> secret (what `local_stage.access.sigv4.verify` reads), and the
    identity API Gateway puts in `requestContext.authorizer.iam` for a verified key."""

    def __init__(self, root_keys: dict[str, str]) -> None:
        self._root = dict(root_keys)

    def get(self, access_key: str, /) -> str | None:
        if access_key in self._root:
            return self._root[access_key]
        key = iam_user_access_key(access_key) or assumed_role(access_key)
        return key.secret_access_key if key is not None else None

    def session_token(self, access_key: str) -> str | None:
        """The session token a temporary key must come with; None for a long-term key."""
        if access_key in self._root:
            return None
        session = assumed_role(access_key)
        return session.session_token if session is not None else None

    def identity(self, access_key: str, session_token: str | None) -> dict[str, Any] | None:
        """What API Gateway reports for a verified key; None when a temporary key comes
        without its session's token (AWS refuses such a request as an invalid token)."""
        if access_key in self._root:
            arn, user_id = f"arn:aws:iam::{ACCOUNT_ID}:root", ACCOUNT_ID
        elif (key := iam_user_access_key(access_key)) is not None:
            user = iam_user(key.user_name)
            arn, user_id = user.arn, user.id
        elif (session := assumed_role(access_key)) is not None:
            if session_token != session.session_token:
                return None
            arn, user_id = session.arn, session.user_id
        else:
            return None
        return {
            "accessKey": access_key,
            "accountId": ACCOUNT_ID,
            "callerId": user_id,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": arn,
            "userId": user_id,
        }
