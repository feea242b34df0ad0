"""SQS on the local emulator, made to answer as AWS does where the local stage depends on it.

1. moto runs a queue's Lambda event source mappings itself, inside SendMessage: it receives a
   batch (one receive of each message burned) and invokes the function through its own Lambda
   backend, which needs Docker (without it, the messages come back unprocessed, or are deleted
   unprocessed). On the local stage the runtime's poller (local_stage.runtime.event_sources)
   runs the mappings with the deployed zip, as Lambda's pollers do: moto must not. So a queue
   here keeps no mappings of its own; the mappings stay in the Lambda backend, where
   ListEventSourceMappings reads them.
2. moto answers JSON attributes (RedrivePolicy) with spaces where AWS answers compact JSON;
   the AWS provider then plans a "whitespace" update of the queue on every plan, so a no-op
   deploy would never be one. Here they are answered compact, as AWS does.
3. moto keeps a queue's RedriveAllowPolicy but never answers it, and the AWS provider waits
   (3 minutes, then fails) for the attributes it set to read back. Here it is answered.

Both patch the pinned moto's internals (moto.sqs.models.Queue).
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
