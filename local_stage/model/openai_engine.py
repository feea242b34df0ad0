"""Forward to an OpenAI-compatible chat completions server the user already runs (vLLM,
llama.cpp's server, Ollama, LM Studio, ...): Converse in, /v1/chat/completions out.

Its errors come back as Bedrock's: 429 -> ThrottlingException, 400 -> ValidationException,
401/403 -> AccessDeniedException, 404 -> ResourceNotFoundException, other failures ->
ModelErrorException, unreachable -> ServiceUnavailableException, too slow ->
ModelTimeoutException.
"""

import json
import time
import urllib.error
import urllib.request
from typing import Any

from local_stage.model.chat import ChatRequest, Completion, StopReason, StopScanner
from local_stage.model.engine import Job
from local_stage.model.errors import (
    BedrockError,
    access_denied,
    model_error,
    model_timeout,
    not_found,
    throttled,
    unavailable,
    validation,
)


class OpenAICompatibleEngine:
    kind = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        parallelism: int = 4,
        timeout_s: float = 120.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        if not self.base_url.endswith("/v1"):
            self.base_url += "/v1"
        self.model = model
        self.name = f"{model} (OpenAI-compatible server at {base_url})"
        self.parallelism = parallelism
        self._api_key = api_key
        self._timeout_s = timeout_s

    def request_body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": request.chat_messages(),
            "stream": False,
        }
        optional = {
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "top_k": request.top_k,
        }
        body.update({name: value for name, value in optional.items() if value is not None})
        if request.stop_sequences:
            body["stop"] = list(request.stop_sequences)
        return body

    def generate(self, job: Job) -> Completion:
        job.check()
        timeout = max(0.1, min(self._timeout_s, job.deadline - time.monotonic()))
        answer = self._post(self.request_body(job.request), timeout)
        job.check()
        return self._completion(answer, job)

    def _post(self, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        http_request = urllib.request.Request(
            f"{self.base_url}/chat/completions",
            data=json.dumps(body).encode(),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(http_request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise self._mapped(error.code, _detail(error.read())) from error
        except TimeoutError as exc:
            raise model_timeout(
                f"the model server at {self.base_url} did not answer in {timeout:.0f} s"
            ) from exc
        except (urllib.error.URLError, ConnectionError) as exc:
            raise unavailable(
                f"the model server at {self.base_url} cannot be reached: "
                f"{getattr(exc, 'reason', exc)}"
            ) from exc
        except ValueError as exc:
            raise model_error(
                f"the model server at {self.base_url} answered with something that is not JSON"
            ) from exc

    def _mapped(self, status: int, detail: str) -> BedrockError:
        where = f"the model server at {self.base_url} answered {status}: {detail}"
        if status == 429:
            return throttled(where)
        if status in (400, 413, 422):
            return validation(where)
        if status in (401, 403):
            return access_denied(where)
        if status == 404:
            return not_found(where)
        return model_error(where)

    def _completion(self, answer: dict[str, Any], job: Job) -> Completion:
        try:
            choice = answer["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise model_error(f"the model server at {self.base_url} sent no choices") from exc
        finish = choice.get("finish_reason")
        reported_stop = choice.get("stop_reason")  # vLLM names the stop string it met
        scanner = StopScanner(job.request.stop_sequences)  # in case the server ignored `stop`
        text = scanner.feed(text) + scanner.flush()
        matched = scanner.matched
        if matched is None and isinstance(reported_stop, str):
            matched = reported_stop if reported_stop in job.request.stop_sequences else None
        reason: StopReason = "end_turn"
        if matched is not None:
            reason = "stop_sequence"
        elif finish == "length":
            reason = "max_tokens"
        if text:
            job.on_text(text)
        usage = answer.get("usage") or {}
        return Completion(
            text,
            reason,
            int(usage.get("prompt_tokens") or 0),
            int(usage.get("completion_tokens") or 0),
            matched,
        )

    def close(self) -> None:
        """Nothing held open between requests."""


def _detail(body: bytes) -> str:
    try:
        payload = json.loads(body)
        error = payload.get("error", payload) if isinstance(payload, dict) else payload
        message = error.get("message") if isinstance(error, dict) else error
        return str(message)[:300]
    except ValueError:
        return body[:300].decode("utf-8", "replace")
