"""How a job reads to its owner: the JSON a GET (or the 202 of a submission) answers."""

from datetime import UTC, datetime
from typing import Any

from codegen.jobs.state import Job


def job_view(job: Job, location: str) -> dict[str, Any]:
    view: dict[str, Any] = {
        "job_id": job.job_id,
        "status": job.status.value,
        "url": location,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "request_id": job.request_id,
    }
    if job.finished and job.result is not None:
        view.update(job.result)
    if not job.finished and job.progress_tokens is not None:
        # Estimated while the model writes (codegen.generation.bedrock.estimate); `usage` has
        # its count.
        view["progress"] = {
            "output_tokens": job.progress_tokens,
            "estimated": True,
            "updated_at": iso(job.progress_at),
        }
    if job.error is not None:
        view["error"] = job.error
    return view


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")
