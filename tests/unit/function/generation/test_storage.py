"""What S3 is given and how its refusals are read: metadata is always one header-safe line, the
code is stored even where S3 refuses its metadata, and a missing object reads as gone whether
S3 says 404 or (without s3:ListBucket) 403."""

import boto3
import pytest
from botocore.stub import ANY, Stubber

from codegen.generation.languages import find_language
from codegen.generation.storage import Generated, StoredObject, header_safe, read_code, store_code
from codegen.generation.syntax import SyntaxVerdict
from tests.unit.function.helpers import BUCKET, FakeContext, body_of, converse_reply, http_event

# PyYAML words some errors over two lines ("...not allowed\n  in "<unicode string>", ...").
BELL_YAML = "name: codegen\nbell: \x07\n"


def test_a_multi_line_parser_message_is_stored_as_one_line_with_the_code(service, stubber, s3):
    stubber.add_response("converse", converse_reply(f"```yaml\n{BELL_YAML}```"))
    result = service.handle(http_event({"message": "config", "key": "yaml"}), FakeContext())
    answer = body_of(result)
    assert result["statusCode"] == 200 and answer["stored"] is True, answer
    assert "\n" in answer["syntax"]["message"]  # the caller gets the parser's own words
    stored = s3.head_object(Bucket=BUCKET, Key=answer["key"])["Metadata"]
    assert (
        "\n" not in stored["syntax-message"]
        and "characters are not allowed" in stored["syntax-message"]
    )
    body = s3.get_object(Bucket=BUCKET, Key=answer["key"])["Body"].read().decode()
    assert body.startswith("name: codegen")


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("a\n  in b", "a in b"),
        ("tab\tand\r\nnewline", "tab and newline"),
        ("café", "caf\\xe9"),
        ("nul\x00byte", "nul\\x00byte"),
        ("plain ascii", "plain ascii"),
    ],
)
def test_metadata_values_are_one_line_of_printable_ascii(value, safe):
    assert header_safe(value) == safe


def _generated() -> Generated:
    return Generated(
        model_id="m",
        stop_reason="end_turn",
        input_tokens=1,
        output_tokens=2,
        syntax=SyntaxVerdict("error", 3, "x" * 400, None),
        prompt_template_sha256="",
    )


def test_the_code_is_stored_without_its_verdict_when_s3_refuses_the_metadata():
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as s3:
        s3.add_client_error(
            "put_object", "MetadataTooLarge", "Your metadata headers exceed the maximum", 400
        )
        essentials = {
            "language": "python",
            "model-id": "m",
            "prompt-sha256": ANY,
            "request-id": "r",
        }
        s3.add_response(
            "put_object",
            {},
            {
                "Bucket": BUCKET,
                "Key": "k.py",
                "Body": b"x = 1\n",
                "ContentType": ANY,
                "Metadata": essentials,
                "IfNoneMatch": "*",
            },
        )
        stored = store_code(
            client,
            bucket=BUCKET,
            key="k.py",
            code="x = 1\n",
            language=find_language("python"),
            model_id="m",
            prompt="p",
            request_id="r",
            generated=_generated(),
        )
        s3.assert_no_pending_responses()
    assert stored == StoredObject(BUCKET, "k.py")


@pytest.mark.parametrize(("code", "status"), [("NoSuchKey", 404), ("AccessDenied", 403)])
def test_a_missing_object_is_gone_whether_s3_says_404_or_403(code, status):
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as s3:
        s3.add_client_error("get_object", code, "gone", status)
        assert read_code(client, StoredObject(BUCKET, "code-output/jobs/x.py")) is None


def test_other_s3_errors_still_reach_the_caller():
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as s3:
        s3.add_client_error("get_object", "InternalError", "boom", 500)
        with pytest.raises(Exception, match="InternalError"):
            read_code(client, StoredObject(BUCKET, "code-output/jobs/x.py"))
