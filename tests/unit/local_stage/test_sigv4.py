from datetime import UTC, datetime, timedelta

from botocore.credentials import Credentials

from deploy.call import signed_headers
from local_stage.access.sigv4 import verify

URL = "http://127.0.0.1:8080/local/code-generation?mode=x"
BODY = b'{"message": "m"}'
KEYS = {"test": "test"}


def _signed(secret: str = "test", key: str = "test", url: str = URL, body: bytes = BODY):
    headers = signed_headers(
        url, body, "us-east-1", Credentials(key, secret), {"Content-Type": "application/json"}
    )
    return [*headers.items(), ("Host", "127.0.0.1:8080")]


def test_a_correct_signature_passes():
    verdict = verify("PUT", URL, _signed(), BODY, KEYS, "us-east-1")
    assert verdict.ok and verdict.access_key == "test"


def test_tampering_and_wrong_keys_fail():
    assert not verify("PUT", URL, _signed(), BODY + b" ", KEYS, "us-east-1").ok
    assert not verify("POST", URL, _signed(), BODY, KEYS, "us-east-1").ok
    assert not verify("PUT", URL + "&extra=1", _signed(), BODY, KEYS, "us-east-1").ok
    wrong = verify("PUT", URL, _signed(secret="nope"), BODY, KEYS, "us-east-1")
    assert not wrong.ok and "signature" in wrong.message
    unknown = verify("PUT", URL, _signed(key="someone"), BODY, KEYS, "us-east-1")
    assert not unknown.ok and "security token" in unknown.message
    assert not verify("PUT", URL, _signed(), BODY, KEYS, "eu-west-1").ok


def test_missing_or_malformed_authorization_is_refused():
    headers = [h for h in _signed() if h[0] != "Authorization"]
    assert verify("PUT", URL, headers, BODY, KEYS, "us-east-1").message == "Forbidden"
    bad = [*headers, ("Authorization", "Basic dXNlcjpwYXNz")]
    assert "Credential" in verify("PUT", URL, bad, BODY, KEYS, "us-east-1").message


def test_stale_signatures_are_refused():
    later = datetime.now(UTC) + timedelta(minutes=20)
    verdict = verify("PUT", URL, _signed(), BODY, KEYS, "us-east-1", now=later)
    assert not verdict.ok and "expired" in verdict.message


def _signed_with_payload_hash(claimed: str, body: bytes = BODY):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(
        method="PUT", url=URL, data=body, headers={"X-Amz-Content-SHA256": claimed}
    )
    SigV4Auth(Credentials("test", "test"), "execute-api", "us-east-1").add_auth(request)
    return [*request.headers.items(), ("Host", "127.0.0.1:8080")]


def test_a_body_other_than_the_signed_one_is_refused_whatever_the_payload_hash_claims():
    unsigned = _signed_with_payload_hash("UNSIGNED-PAYLOAD")
    swapped = verify("PUT", URL, unsigned, b'{"message": "evil"}', KEYS, "us-east-1")
    assert not swapped.ok and "payload hash" in swapped.message
    assert not verify("PUT", URL, unsigned, BODY, KEYS, "us-east-1").ok  # binds no body
    import hashlib

    honest = _signed_with_payload_hash(hashlib.sha256(BODY).hexdigest())
    assert verify("PUT", URL, honest, BODY, KEYS, "us-east-1").ok
    assert not verify("PUT", URL, honest, BODY + b"x", KEYS, "us-east-1").ok
