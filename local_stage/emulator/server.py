"""The AWS control-plane emulator for the local stage: moto's server, in a thread of the
local stage process.

In-process, so that (1) the code Terraform uploaded can be read back from moto's Lambda
backend (moto serves no download URL for it), and (2) the gateway learns cheaply when
Lambda or API Gateway configuration changed: every mutating request to those services moves
a counter, and the gateway re-reads configuration only then.
"""

import json
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server import werkzeug_app
from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from local_stage.access.guard import wsgi_guard
from local_stage.contract import DEFAULT_CREDENTIALS, HEALTH_PATH, new_token
from local_stage.emulator import (
    backends,
    fidelity_cloudwatch,
    fidelity_dynamodb,
    fidelity_lambda,
    fidelity_s3,
    fidelity_sqs,
)
from local_stage.emulator.account import AccountFacts, answering_account
from local_stage.emulator.changes import ChangeCounter
from local_stage.emulator.principals import Principals
from local_stage.emulator.retries import RetriedCalls
from local_stage.emulator.signatures import verifying
from local_stage.faults import FaultTable, injecting

# Path prefixes of the Lambda and API Gateway v2 REST APIs (configuration changes).
_WATCHED_PREFIXES = ("/2015-03-31/", "/2018-10-31/", "/2017-03-31/", "/2019-09-25/", "/v2/")
_READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def _watching(app: Callable[..., Iterable[bytes]], counter: ChangeCounter):
    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            return app(environ, start_response)
        finally:
            if method not in _READ_METHODS and path.startswith(_WATCHED_PREFIXES):
                counter.bump()

    return middleware


def _answering_health(app: Callable[..., Iterable[bytes]], instance: str):
    body = json.dumps({"status": "ok", "instance": instance}).encode()

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]):
        if environ.get("PATH_INFO") == HEALTH_PATH:
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return app(environ, start_response)

    return middleware


class Emulator:
    """moto's server on 127.0.0.1:`port` (0 picks a free port); its /_local/ paths ask for
    `token`, every AWS API request a signature by `credentials` (or by a key made in it).
    `account` is what it answers about the account (local_stage.emulator.account)."""

    def __init__(
        self,
        port: int = 0,
        token: str | None = None,
        account: AccountFacts | None = None,
        credentials: tuple[str, str] = DEFAULT_CREDENTIALS,
    ) -> None:
        self.token = token or new_token()  # None: one nobody else knows
        fidelity_s3.install()
        fidelity_sqs.install()
        fidelity_lambda.install()
        fidelity_cloudwatch.install()
        fidelity_dynamodb.install()
        self.changes = ChangeCounter()
        self.faults = FaultTable()
        self.account = account or AccountFacts()
        # Which emulator this is: the deploy side drops Terraform state kept for another.
        self.instance = uuid.uuid4().hex
        # moto answers every origin's CORS preflight with a grant by default: any web page the
        # user opens could then read the stage's table and bucket. AWS grants nothing unless
        # a bucket's own CORS rules say so; neither does the emulator. (Read when each
        # service's app is made, on its first request.)
        werkzeug_app.DISABLE_GLOBAL_CORS = True
        app = _watching(DomainDispatcherApplication(create_backend_app), self.changes)
        app = answering_account(app, self.account, backends.lambda_reservations)
        app = RetriedCalls(app)  # an SDK's retry of a call that already ran: its first answer
        app = _answering_health(injecting(app, self.faults), self.instance)
        app = verifying(app, Principals({credentials[0]: credentials[1]}))
        app = wsgi_guard(app, self.token)
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="aws-emulator"
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
