"""Where things live in the repository. Everything else derives its paths from here."""

from pathlib import Path

from local_stage import contract

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = REPO_ROOT / "lambda"
FUNCTION_SOURCE_DIR = LAMBDA_DIR
REQUIREMENTS_FILE = LAMBDA_DIR / "requirements.txt"
SERVICES_FILE = LAMBDA_DIR / "services.txt"
BUILD_DIR = contract.BUILD_DIR  # shared with the local stage: one home
TERRAFORM_DIR = REPO_ROOT / "terraform"
STAGE_VARS_DIR = TERRAFORM_DIR / "stages"
BENCH_DIR = REPO_ROOT / "bench"  # the measurements: the benches and the one chart script
