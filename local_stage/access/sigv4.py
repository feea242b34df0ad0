"""Verify SigV4 signatures against the local stage's credentials: the gateway's AWS_IAM
routes (service execute-api) and the Bedrock-compatible model server (service bedrock).

The signature is recomputed with botocore's own signer over the request as received (method,
path, query, the signed headers, the body hash) and compared in constant time.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local_stage.access.headers import fold_headers

_AUTH = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<signed>[^,]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})"
)
MAX_SKEW = timedelta(minutes=5)
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")


def credential_scope(authorization: str) -> tuple[str, str] | None:
    """(region, service) that an Authorization header's credential is scoped to; None for a
    request that is not SigV4-signed. Says nothing of whether the signature is good."""
    match = _SCOPE.search(authorization)
    return (match["region"], match["service"]) if match else None


class SecretLookup(Protocol):
    """An access key id's secret key, or None (a dict of them will do)."""

    def get(self, access_key: str, /) -> str | None: ...


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str = ""
    access_key: str = ""
    # The error code AWS services answer with (X-Amzn-ErrorType), when not ok.
    code: str = ""


def _refused(code: str, message: str) -> Verdict:
    return Verdict(False, message, code=code)


def verify(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes,
    credentials: SecretLookup,
    region: str,
    now: datetime | None = None,
    service: str = "execute-api",
    bind_body: bool = True,
) -> Verdict:
    """`credentials` gives the secret key of an access key id; `service` is the signing name.
    With `bind_body`, the signed payload hash must be this body's (the gateway: nobody may
    swap the body of a signed request); without it, the hash the request signed is taken as
    it is (the emulator: S3 over plain HTTP signs UNSIGNED-PAYLOAD or a streaming form)."""
    lookup = fold_headers(headers)  # SigV4 signs a repeated header as its comma-joined values
    authorization = lookup.get("authorization")
    if not authorization:
        return _refused("MissingAuthenticationTokenException", "Forbidden")
    match = _AUTH.fullmatch(authorization.strip())
    if match is None:
        return _refused(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'Signature' and "
            "'SignedHeaders' parameters (AWS4-HMAC-SHA256)",
        )
    secret = credentials.get(match["key"])
    if secret is None:
        return _refused(
            "UnrecognizedClientException", "The security token included in the request is invalid."
        )
    if match["service"] != service or match["region"] != region:
        return _refused(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region ({region}) and service ({service})",
        )
    amz_date = lookup.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return _refused("IncompleteSignatureException", "Missing or malformed X-Amz-Date header")
    now = now or datetime.now(UTC)
    if abs(now - signed_at) > MAX_SKEW or amz_date[:8] != match["date"]:
        return _refused(
            "InvalidSignatureException",
            "Signature expired or not yet valid: check the client's clock",
        )
    signed_names = match["signed"].split(";")
    if "host" not in signed_names:
        return _refused("IncompleteSignatureException", "the Host header must be signed")
    # The signature must bind the body that arrived: a claimed payload hash (UNSIGNED-PAYLOAD
    # included) that is not this body's would let anyone swap the body of a signed request.
    body_hash = hashlib.sha256(body).hexdigest()
    claimed = lookup.get("x-amz-content-sha256")
    if bind_body and claimed is not None and claimed != body_hash:
        return _refused(
            "InvalidSignatureException",
            "The request body does not match the payload hash it was signed with "
            "(x-amz-content-sha256): sign the body you send",
        )
    request = AWSRequest(
        method=method, url=url, data=body, headers={n: lookup.get(n, "") for n in signed_names}
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(
        Credentials(match["key"], secret, lookup.get("x-amz-security-token")), service, region
    )
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, match["signature"]):
        return _refused(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature "
            "you provided. Check your AWS Secret Access Key and signing "
            "method.",
        )
    return Verdict(True, access_key=match["key"])
