"""What the local stage reads out of moto's in-process backends (internal APIs of the pinned
moto, which is why they are here and only here): the zips Terraform deployed, which moto
serves no download URL for, and the IAM users' access keys the gateway accepts."""

from typing import Any

from local_stage.contract import ACCOUNT_ID


def deployed_code(function_name: str, region: str) -> bytes | None:
    """The function zip moto holds (internal API of the pinned moto), or None."""
    try:
        from moto.awslambda.models import lambda_backends

        return lambda_backends[ACCOUNT_ID][region].get_function(function_name).code_bytes
    except Exception:
        return None


def deployed_layer(layer_name: str, version: int, region: str) -> bytes | None:
    """A layer version's zip as moto holds it, or None."""
    try:
        from moto.awslambda.models import lambda_backends

        backend = lambda_backends[ACCOUNT_ID][region]
        return backend.get_layer_version(layer_name, version).code_bytes
    except Exception:
        return None


def lambda_reservations(region: str) -> tuple[int, dict[str, int], int]:
    """The functions' reserved concurrency in the Region: the total, each function's (0 for
    none), and the deployed code's total size (internal API of the pinned moto)."""
    try:
        from moto.awslambda.models import lambda_backends

        functions = list(lambda_backends[ACCOUNT_ID][region].list_functions())
    except Exception:
        return 0, {}, 0
    reserved = {fn.function_name: int(fn.reserved_concurrency or 0) for fn in functions}
    code_size = sum(int(getattr(fn, "code_size", 0) or 0) for fn in functions)
    return sum(reserved.values()), reserved, code_size


def _iam() -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[ACCOUNT_ID]["global"]


def iam_user_access_key(access_key: str) -> Any:
    """The active access key of an emulator IAM user with this id, or None."""
    try:
        keys = _iam().get_all_access_keys_for_all_users()
    except Exception:
        return None
    for key in keys:
        if key.access_key_id == access_key and key.status == "Active":
            return key
    return None


def iam_user(name: str) -> Any:
    """The emulator's IAM user of that name (moto's model: `.arn`, `.id`)."""
    return _iam().get_user(name)


def assumed_role(access_key: str) -> Any:
    """The emulator's unexpired AssumeRole session with this access key id, or None (moto's
    model: `.secret_access_key`, `.session_token`, `.arn`, `.user_id` = ROLE-ID:SESSION)."""
    try:
        from moto.core.utils import utcnow
        from moto.sts.models import sts_backends

        sessions = sts_backends[ACCOUNT_ID]["global"].assumed_roles
    except Exception:
        return None
    for session in sessions:
        if session.access_key_id == access_key and session.expiration > utcnow():
            return session
    return None
