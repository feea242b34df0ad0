"""One structured JSON line per request and per job delivery on stdout (CloudWatch keeps it
as one event). With a metrics target the line is also an Embedded Metric Format record
(codegen.telemetry.metrics): the same line counts requests, statuses and tokens.

The prompt itself is never logged unless LOG_PROMPTS is set: only its length and sha256.
"""

import json
import sys
from typing import Any

from codegen.telemetry.metrics import MetricsTarget, emf_fields


def log_request(target: MetricsTarget | None = None, route: str = "", **fields: Any) -> None:
    record = {"event": "code-generation", **{k: v for k, v in fields.items() if v is not None}}
    if target is not None:
        record.update(emf_fields(target, route, record))
    sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()
