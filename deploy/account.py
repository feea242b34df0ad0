"""Which AWS account the caller's credentials belong to, asked of STS before anything else.

A real stage names its account (`aws_account_id` in its stage file); deploying it with other
credentials stops here, before Terraform plans anything, with both accounts in the message.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from deploy.stages import Stage
from layer_builder.errors import UserError


class AccountError(UserError):
    """The credentials are missing, unusable or for another account; the message says which."""


@dataclass(frozen=True)
class Caller:
    account: str
    arn: str


def caller_identity(region: str, env: Mapping[str, str]) -> Caller:
    """The account and principal of the credentials in `env` (profile, keys or SSO)."""
    try:
        session = boto3.Session(
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
            aws_session_token=env.get("AWS_SESSION_TOKEN"),
            profile_name=None if env.get("AWS_ACCESS_KEY_ID") else env.get("AWS_PROFILE"),
            region_name=region,
        )
        if session.get_credentials() is None:
            raise AccountError(
                "no AWS credentials found: run `aws configure` or `aws sso login`, or set "
                "AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
            )
        # AWS's own STS, whatever AWS_ENDPOINT_URL* the shell has set.
        sts = session.client("sts", config=Config(ignore_configured_endpoint_urls=True))
        identity = sts.get_caller_identity()
    except (BotoCoreError, ClientError) as exc:
        raise AccountError(
            f"cannot tell which AWS account these credentials are for: {exc}"
        ) from exc
    return Caller(str(identity["Account"]), str(identity["Arn"]))


def require_stage_account(stage: Stage, caller: Caller) -> None:
    """Stop unless `caller` is in the account the stage names."""
    expected = stage.account_id
    if expected is None:
        raise AccountError(
            f"stage {stage.name} names no AWS account. Your credentials are for account "
            f"{caller.account} ({caller.arn}); if that is the account for {stage.name}, add "
            f'"aws_account_id": "{caller.account}" to {stage.var_file}'
        )
    if caller.account != expected:
        raise AccountError(
            f"stage {stage.name} deploys to AWS account {expected}, but your credentials are "
            f"for account {caller.account} ({caller.arn}). Switch credentials (AWS_PROFILE, "
            f"`aws sso login`) or, if the stage moved, change aws_account_id in "
            f"{stage.var_file}"
        )
