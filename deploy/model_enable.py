"""`invoke model.enable`: the stage's model's first call, made with the deployer's own
credentials.

Bedrock no longer has a console switch for model access (AWS's "Access Amazon Bedrock
foundation models", read 2026-12-06): the first call of a third-party model in an account
starts an AWS Marketplace subscription in the background, and that needs
aws-marketplace:Subscribe, Unsubscribe and ViewSubscriptions on the *calling* principal and a
payment method. The stage's functions rightly hold none of those: if their call were the
account's first, the subscription would fail and callers would get 502s. So the deployer makes
one minimal Converse call (one output token) first, and preflight reads the record it leaves.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deploy.errors import DeployError
from deploy.preflight import ENABLED_RECORD, enabled_record
from deploy.stages import Stage
from layer_builder.atomic import write_json_atomically

PROMPT = "Reply with OK."


@dataclass(frozen=True)
class Enabled:
    model_id: str
    caller: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    record: Path


def enable_model(
    stage: Stage, client: Callable[[str], Any], workdir: Path, now: datetime | None = None
) -> Enabled:
    """One Converse call of the stage's model; what it cost, and the record preflight reads."""
    model_id = str(stage.variables["model_id"])
    caller = client("sts").get_caller_identity()["Arn"]
    arguments: dict[str, Any] = {
        "modelId": model_id,
        "messages": [{"role": "user", "content": [{"text": PROMPT}]}],
        "inferenceConfig": {"maxTokens": 1},
    }
    fields = stage.variables.get("model_request_fields") or {}
    if fields:
        arguments["additionalModelRequestFields"] = dict(fields)
    try:
        answer = client("bedrock-runtime").converse(**arguments)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise DeployError(
            f"{model_id} refused the first call ({error.get('Code')}: {error.get('Message')}). "
            f"{_advice(str(error.get('Code')), stage)}"
        ) from exc
    except BotoCoreError as exc:
        raise DeployError(f"could not call {model_id}: {exc}") from exc
    usage = answer.get("usage", {})
    tokens_in, tokens_out = int(usage.get("inputTokens", 0)), int(usage.get("outputTokens", 0))
    cost = tokens_in / 1000 * float(stage.variables["price_per_1000_input_tokens"]) + (
        tokens_out / 1000 * float(stage.variables["price_per_1000_output_tokens"])
    )
    foundation = _foundation_id(client, model_id)
    record = workdir / ENABLED_RECORD
    workdir.mkdir(parents=True, exist_ok=True)
    write_json_atomically(
        record, enabled_record(caller, foundation, cost, now or datetime.now(UTC))
    )
    return Enabled(model_id, caller, tokens_in, tokens_out, cost, record)


def _foundation_id(client: Callable[[str], Any], model_id: str) -> str:
    """The foundation model behind `model_id` (preflight's record names that one)."""
    from deploy.bedrock_models import ModelNotOffered, resolve

    try:
        return resolve(client("bedrock"), model_id).model_id
    except (ModelNotOffered, ClientError, BotoCoreError):
        return model_id


def _advice(code: str, stage: Stage) -> str:
    if code == "AccessDeniedException":
        return (
            "Your credentials need bedrock:InvokeModel on it and, for the account's first "
            "call, aws-marketplace:Subscribe, Unsubscribe and ViewSubscriptions, with a "
            "payment method on the account; after a fix Bedrock can take about 2 minutes. "
            f"`invoke preflight --stage {stage.name}` says which part is missing"
        )
    if code in {"ResourceNotFoundException", "ValidationException"}:
        return f"`invoke models --stage {stage.name}` lists the models this Region offers"
    return f"run `invoke preflight --stage {stage.name}`"
