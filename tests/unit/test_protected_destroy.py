"""`invoke destroy` of a protected stage is refused from its stage file alone, `--yes` or not:
before credentials, AWS or Terraform are looked at (here there are none of them)."""

import os
import subprocess
import sys

from deploy.paths import REPO_ROOT


def test_destroying_prod_is_refused_before_anything_else_is_touched(tmp_path):
    environment = {
        "PATH": os.path.dirname(sys.executable),  # no terraform here
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    answer = subprocess.run(
        [sys.executable, "-m", "invoke", "destroy", "--stage", "prod", "--yes"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert answer.returncode == 1
    assert "stage prod is protected" in answer.stderr
    assert "set protected_stage to false" in answer.stderr and "invoke deploy" in answer.stderr
    for unseen in ("credentials", "terraform is not", "STS", "Traceback"):
        assert unseen not in answer.stderr
