"""What `invoke local.up` is asked to run as the model, checked before anything starts."""

import pytest

from local_stage.model.models import default_gguf
from local_stage.supervisor import LocalStageError, ModelChoice


def test_the_default_is_the_packaged_smollm2_gguf():
    assert ModelChoice().server_arguments() == ["--model", str(default_gguf())]
    assert default_gguf().name.startswith("SmolLM2-135M-Instruct") and default_gguf().is_file()


def test_a_gguf_path_is_resolved(tmp_path):
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    assert ModelChoice(gguf=str(model)).server_arguments() == ["--model", str(model.resolve())]


@pytest.mark.parametrize(
    ("choice", "fragment"),
    [
        (ModelChoice(gguf="/no/such/model.gguf"), "model file not found: /no/such/model.gguf"),
        (ModelChoice(openai_url="http://127.0.0.1:8000"), "needs --openai-model"),
    ],
)
def test_choices_that_cannot_work_fail_with_what_to_fix(choice, fragment):
    with pytest.raises(LocalStageError, match=fragment):
        choice.server_arguments()


def test_an_openai_compatible_server_is_forwarded_to():
    choice = ModelChoice(openai_url="http://127.0.0.1:8000", openai_model="qwen")
    assert choice.server_arguments() == [
        "--openai-url",
        "http://127.0.0.1:8000",
        "--openai-model",
        "qwen",
    ]
    assert choice.source() == "http://127.0.0.1:8000#qwen"


def test_a_gguf_model_runs_on_the_threads_asked_for(tmp_path):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    assert ModelChoice(gguf=str(gguf)).server_arguments() == ["--model", str(gguf)]
    assert ModelChoice(gguf=str(gguf), threads=1).server_arguments()[-2:] == ["--threads", "1"]
