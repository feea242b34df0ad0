"""The stage's resources as the console reads them: through the emulator's AWS APIs, found
from what Terraform created (the API's functions and their environment), as the tooling
finds them on AWS. Blocking calls (boto3): the console runs them in a thread."""

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from local_stage.control_plane import ControlPlane, apis_with_stage

MAX_JOBS = 200
MAX_DEAD_LETTERS = 10  # what one ReceiveMessage returns at most
_LAMBDA_REQUEST_ID = re.compile(r"RequestId: ([0-9a-f-]{36})")


class ConsoleError(Exception):
    """What the console was asked cannot be done; the message says why (a 4xx)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Stage:
    """Where the deployed stage keeps things, read from its functions' environment."""

    api_id: str
    stage: str
    functions: tuple[str, ...]
    bucket: str | None
    jobs_table: str | None
    queue_url: str | None
    routes: dict[str, str]
    spend_table: str | None = None  # the API's route keys by method: "PUT" -> "/code-generation"

    def path(self, method: str, job_id: str | None = None) -> str:
        """The stage's URL path of its route for `method` (a job's GET with its id)."""
        route = self.routes.get(method)
        if route is None:
            raise ConsoleError(409, f"the deployed API has no {method} route")
        if job_id is not None:
            route = re.sub(r"\{[^}]+\}", job_id, route)
        return route if self.stage == "$default" else f"/{self.stage}{route}"


class StageResources:
    def __init__(self, control: ControlPlane) -> None:
        self.control = control
        self._types = TypeDeserializer()

    def stage(self, name: str | None = None) -> Stage:
        """The deployed API stage called `name` (default: the first API's) and what its
        functions use."""
        apis = self.control.apis()
        if not apis:
            raise ConsoleError(409, "nothing is deployed yet: run `invoke deploy`")
        if name is None:
            api = next(iter(apis.values()))
            stage = next((s for s in api.stages if s != "$default"), "$default")
        else:
            named = apis_with_stage(apis, name)
            if len(named) != 1:
                stages = sorted({stage for api in apis.values() for stage in api.stages})
                found = "no deployed API has" if not named else f"{len(named)} deployed APIs have"
                raise ConsoleError(
                    404, f"{found} a stage {name!r} (the stages: {', '.join(stages)})"
                )
            api, stage = named[0], name
        names: list[str] = []
        routes = {route.method: route.path for route in api.routes if route.route_key != "$default"}
        for route in api.routes:
            name = route.integration.function_name if route.integration else None
            if name and name not in names:
                names.append(name)
        environment: dict[str, str] = {}
        for name in names:
            function = self.control.function(name)
            if function is not None:
                environment = {**function.environment, **environment}
        for mapping in self.control.sqs_mappings(1):
            if mapping.function_name not in names:
                names.append(mapping.function_name)
        return Stage(
            api.api_id,
            stage,
            tuple(names),
            environment.get("OUTPUT_BUCKET"),
            environment.get("JOBS_TABLE"),
            environment.get("JOBS_QUEUE_URL"),
            routes,
            environment.get("SPEND_TABLE"),
        )

    # -- logs ------------------------------------------------------------------------------
    def log_lines(self, ids: list[str], functions: tuple[str, ...]) -> list[dict[str, Any]]:
        """Every function's log lines naming one of `ids`, and those of the Lambda requests
        they belong to (START ... REPORT), in time order."""
        logs = self.control.client("logs", read_timeout=10)
        found: dict[str, dict[str, Any]] = {}
        asked: set[str] = set()
        pending = list(dict.fromkeys(i for i in ids if i))
        while pending:
            asked.update(pending)
            named: list[str] = []
            for function in functions:
                for event in _filtered(logs, f"/aws/lambda/{function}", pending):
                    if event["eventId"] in found:
                        continue
                    found[event["eventId"]] = {
                        "function": function,
                        "time": event["timestamp"] / 1000,
                        "message": event["message"].rstrip("\n"),
                    }
                    named += [i for i in _lambda_ids(event["message"]) if i not in asked]
            pending = list(dict.fromkeys(named))
        return sorted(found.values(), key=lambda line: line["time"])

    # -- spend -----------------------------------------------------------------------------
    def spend(self, table: str, now: datetime) -> list[dict[str, Any]]:
        """Each caller's use today and this month (UTC), as the function counts it in the
        stage's spend table: requests, tokens, estimated cost, and what is reserved by
        requests and jobs in flight; top spenders first."""
        dynamodb = self.control.client("dynamodb", read_timeout=10)
        day, month = f"day#{now:%Y-%m-%d}", f"month#{now:%Y-%m}"
        callers: dict[str, dict[str, Any]] = {}
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            for item in page.get("Items", []):
                period = item["period"]["S"]
                if period not in (day, month):
                    continue
                record = {name: self._types.deserialize(value) for name, value in item.items()}
                row = callers.setdefault(record["caller"], {"caller": record["caller"], "arn": ""})
                row["arn"] = record.get("caller_arn") or row["arn"]
                row["day" if period == day else "month"] = {
                    "requests": int(record.get("requests", 0)),
                    "input_tokens": int(record.get("input_tokens", 0)),
                    "output_tokens": int(record.get("output_tokens", 0)),
                    "cost_usd": float(record.get("used_micro", 0)) / 1_000_000,
                    "reserved_tokens": int(record.get("reserved_tokens", 0)),
                }
        empty = {"requests": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
        rows = [{**{"day": empty, "month": empty}, **row} for row in callers.values()]

        def spent(row: dict[str, Any]) -> tuple:
            month_row = row["month"]
            tokens = month_row["input_tokens"] + month_row["output_tokens"]
            return (-month_row["cost_usd"], -tokens, row["caller"])

        return sorted(rows, key=spent)

    # -- jobs ------------------------------------------------------------------------------
    def jobs(self, table: str) -> list[dict[str, Any]]:
        dynamodb = self.control.client("dynamodb", read_timeout=10)
        items: list[dict[str, Any]] = []
        pages = dynamodb.get_paginator("scan").paginate(
            TableName=table, PaginationConfig={"MaxItems": MAX_JOBS}
        )
        for page in pages:
            items.extend(page.get("Items", []))
        jobs = [self._job(item) for item in items]
        return sorted(jobs, key=lambda job: job.get("created_at") or 0, reverse=True)

    def _job(self, item: dict[str, Any]) -> dict[str, Any]:
        record = {name: self._types.deserialize(value) for name, value in item.items()}
        error = _json(record.get("error"))
        return {
            "job_id": record.get("job_id"),
            "status": record.get("status"),
            "created_at": _float(record.get("created_at")),
            "started_at": _float(record.get("started_at")),
            "finished_at": _float(record.get("finished_at")),
            "attempts": int(record.get("receive_count") or 0),
            "progress_tokens": _float(record.get("progress_tokens")),
            "error": error if isinstance(error, dict) else None,
        }

    def dead_letters(self, queue_url: str) -> tuple[str | None, list[dict[str, Any]]]:
        """The dead-letter queue's URL and a look at its messages (they stay there: seen
        with no visibility timeout, so they are at once visible again)."""
        sqs = self.control.client("sqs", read_timeout=10)
        dlq_url = self._dead_letter_url(sqs, queue_url)
        if dlq_url is None:
            return None, []
        answer = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=MAX_DEAD_LETTERS,
            VisibilityTimeout=0,
            AttributeNames=["All"],
        )
        messages = [
            {
                "message_id": message["MessageId"],
                "body": message["Body"],
                "job_id": _job_id(message["Body"]),
                "sent_at": int(message.get("Attributes", {}).get("SentTimestamp", 0)) / 1000,
                "receives": int(message.get("Attributes", {}).get("ApproximateReceiveCount", 0)),
            }
            for message in answer.get("Messages", [])
        ]
        return dlq_url, messages

    def send_back(self, queue_url: str, message_id: str) -> str:
        """Move one dead-lettered message back to the job queue (sent again, then deleted
        from the dead-letter queue); the new message's id."""
        sqs = self.control.client("sqs", read_timeout=10)
        dlq_url = self._dead_letter_url(sqs, queue_url)
        if dlq_url is None:
            raise ConsoleError(404, "the job queue has no dead-letter queue")
        for _ in range(5):  # each receive sees up to 10 of the messages
            answer = sqs.receive_message(
                QueueUrl=dlq_url, MaxNumberOfMessages=MAX_DEAD_LETTERS, VisibilityTimeout=30
            )
            messages = answer.get("Messages", [])
            target = next((m for m in messages if m["MessageId"] == message_id), None)
            others = [m for m in messages if m is not target]
            if others:  # visible again at once: only `target` moves
                sqs.change_message_visibility_batch(
                    QueueUrl=dlq_url,
                    Entries=[
                        {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                        for n, m in enumerate(others)
                    ],
                )
            if target is not None:
                sent = sqs.send_message(QueueUrl=queue_url, MessageBody=target["Body"])
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=target["ReceiptHandle"])
                return str(sent["MessageId"])
            if not messages:
                break
        raise ConsoleError(404, f"no message {message_id} in the dead-letter queue")

    @staticmethod
    def _dead_letter_url(sqs: Any, queue_url: str) -> str | None:
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])
        policy = _json(attributes.get("Attributes", {}).get("RedrivePolicy"))
        if not isinstance(policy, dict) or "deadLetterTargetArn" not in policy:
            return None
        name = str(policy["deadLetterTargetArn"]).rsplit(":", 1)[-1]
        return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])

    # -- objects ---------------------------------------------------------------------------
    def objects(self, bucket: str, prefix: str) -> dict[str, Any]:
        """One level of the bucket under `prefix`: its folders (dates) and objects."""
        s3 = self.control.client("s3", read_timeout=10)
        folders: list[str] = []
        objects: list[dict[str, Any]] = []
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, Delimiter="/"
        )
        for page in pages:
            folders += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
            objects += [
                {"key": o["Key"], "size": o["Size"], "modified": o["LastModified"].timestamp()}
                for o in page.get("Contents", [])
            ]
        objects.sort(key=lambda o: o["modified"], reverse=True)
        return {"bucket": bucket, "prefix": prefix, "folders": sorted(folders), "objects": objects}

    def object(self, bucket: str, key: str) -> tuple[bytes, dict[str, str], str]:
        """An object's bytes, metadata and content type."""
        s3 = self.control.client("s3", read_timeout=10)
        try:
            answer = s3.get_object(Bucket=bucket, Key=key)
        except s3.exceptions.NoSuchKey:
            raise ConsoleError(404, f"no object {key} in {bucket}") from None
        return (
            answer["Body"].read(),
            dict(answer.get("Metadata", {})),
            answer.get("ContentType", "text/plain"),
        )


def _filtered(logs: Any, group: str, ids: list[str]) -> list[dict[str, Any]]:
    pattern = " ".join(f'?"{i}"' for i in ids)
    events: list[dict[str, Any]] = []
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, filterPattern=pattern
        )
        for page in pages:
            events.extend(page.get("events", []))
    except logs.exceptions.ResourceNotFoundException:
        return []
    return events


def _lambda_ids(message: str) -> list[str]:
    """The Lambda request ids a log line names: a JSON line's `request_id`, or START/END/
    REPORT's `RequestId:`."""
    found = _LAMBDA_REQUEST_ID.findall(message)
    record = _json(message)
    if isinstance(record, dict) and isinstance(record.get("request_id"), str):
        found.append(record["request_id"])
    return found


def _job_id(body: str) -> str | None:
    """The job a job message names (a message of another kind names none)."""
    message = _json(body)
    job_id = message.get("job_id") if isinstance(message, dict) else None
    return job_id if isinstance(job_id, str) else None


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None
