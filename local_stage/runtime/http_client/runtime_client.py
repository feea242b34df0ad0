"""A pure-Python stand-in for awslambdaric's native `runtime_client` module.

awslambdaric's only native part is this module, a C++ binding of aws-lambda-cpp, which
publishes Linux wheels only and refuses to build on macOS. Everything else in awslambdaric
(bootstrap, handler loading, context, marshalling, error shapes) is pure Python and imports
`runtime_client` as a top-level module inside `try/except ImportError`. With this directory
first on the worker's path, that import finds this file instead, and the same bootstrap
speaks the same Runtime API over `http.client`.

It mirrors the native module's four calls and their return shapes exactly. It runs inside
the worker's interpreter (the function's Python version), so it uses the standard library
only and nothing newer than Python 3.9.
"""

import http.client
import os
import socket

_PREFIX = "/2018-06-01/runtime"
_user_agent = "aws-lambda-python"
# The headers the native client hands to awslambdaric, by their canonical names (it reports
# an absent one as None).
_NEXT_HEADERS = (
    "Lambda-Runtime-Aws-Request-Id",
    "Lambda-Runtime-Trace-Id",
    "Lambda-Runtime-Invoked-Function-Arn",
    "Lambda-Runtime-Deadline-Ms",
    "Lambda-Runtime-Client-Context",
    "Content-Type",
    "Lambda-Runtime-Cognito-Identity",
    "Lambda-Runtime-Aws-Tenant-Id",
    "Lambda-Runtime-Invocation-Id",
)


def initialize_client(user_agent):
    global _user_agent
    _user_agent = user_agent


def _call(method, path, body=None, headers=None):
    """One request on a fresh connection (as awslambdaric's own init-error path does): no
    idle keep-alive connection can have been closed under it."""
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
    connection = http.client.HTTPConnection(address)
    try:
        connection.connect()
        # Header and body go out in one write; without this the kernel holds the second
        # segment for the peer's delayed ACK (~40-200 ms per invoke).
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.request(
            method, path, body=body, headers={"User-Agent": _user_agent, **(headers or {})}
        )
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def next():  # the native module's name
    status, headers, body = _call("GET", _PREFIX + "/invocation/next")
    if status != 200:
        raise RuntimeError("Failed to get next")
    found = {}
    for name in _NEXT_HEADERS:
        value = headers.get(name)
        found[name] = value if value else None
    deadline = found["Lambda-Runtime-Deadline-Ms"]
    found["Lambda-Runtime-Deadline-Ms"] = int(deadline) if deadline else 0
    return body, found


def post_invocation_result(
    invoke_id, result_data, content_type="application/json", invocation_id=None
):
    status, _, _ = _call(
        "POST",
        _PREFIX + "/invocation/" + invoke_id + "/response",
        bytes(result_data),
        {"Content-Type": content_type},
    )
    if status != 202:
        raise RuntimeError("Failed to post invocation response")


def post_error(invoke_id, error_response_data, xray_fault, invocation_id=None):
    headers = {
        "Content-Type": "application/json",
        "Lambda-Runtime-Function-Error-Type": "Unhandled",
    }
    if xray_fault and xray_fault.isascii():  # a header carries latin-1 at most
        headers["Lambda-Runtime-Function-XRay-Error-Cause"] = xray_fault
    body = (
        error_response_data.encode("utf-8")
        if isinstance(error_response_data, str)
        else error_response_data
    )
    status, _, _ = _call("POST", _PREFIX + "/invocation/" + invoke_id + "/error", body, headers)
    if status != 202:
        raise RuntimeError("Failed to post invocation error")
