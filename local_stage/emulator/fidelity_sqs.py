"""SQS on the local emulator answers as AWS does where the local stage depends on it.

What it makes true:
- A queue runs no Lambda event source mapping itself. moto would, inside SendMessage: it
  receives a batch (one receive of each message burned) and invokes the function through its
  own Lambda backend, which needs Docker (without it, the messages come back unprocessed, or
  are deleted unprocessed). On the local stage the event source pollers
  (local_stage.event_sources.sqs) run the mappings with the deployed zip, as Lambda's pollers
  do; the mappings stay in the Lambda backend, where ListEventSourceMappings reads them.
- JSON attributes (RedrivePolicy) are answered compact, as AWS answers them: with moto's
  spaces the AWS provider plans a "whitespace" update of the queue on every plan, so a no-op
  deploy would never be one.
- A queue's RedriveAllowPolicy is answered (moto keeps it but never answers it, and the AWS
  provider waits 3 minutes for the attributes it set to read back, then fails).

All three patch the pinned moto's internals (moto.sqs.models.Queue).
"""

import json
from typing import Any

_JSON_ATTRIBUTES = ("Policy", "RedrivePolicy", "RedriveAllowPolicy")
_installed = False


def compact(value: Any) -> Any:
    """A JSON document's text without insignificant whitespace; anything else unchanged."""
    if not isinstance(value, str):
        return value
    try:
        return json.dumps(json.loads(value), separators=(",", ":"))
    except ValueError:
        return value


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.sqs.models import Queue

    attributes = Queue.attributes.fget  # type: ignore[attr-defined]

    def aws_attributes(self: Any) -> dict[str, Any]:
        result = attributes(self)
        allow = getattr(self, "redrive_allow_policy", None)
        if allow and "RedriveAllowPolicy" not in result:
            result["RedriveAllowPolicy"] = allow
        for name in _JSON_ATTRIBUTES:
            if name in result:
                result[name] = compact(result[name])
        return result

    Queue.attributes = property(aws_attributes)  # type: ignore[method-assign,assignment]
    # Each read gives a new empty dict, and writes go nowhere: SendMessage finds no mapping.
    Queue.lambda_event_source_mappings = property(  # type: ignore[attr-defined]
        lambda self: {}, lambda self, value: None
    )
    _installed = True
