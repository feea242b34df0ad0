"""Deploy figures against moto's server, in one run: first apply, no-op deploy, a code-only
deploy, destroy. Needs Terraform (and CODEGEN_TF_PROVIDER_MIRROR where the registry is out of
reach).

    python bench/deploy_times.py
"""

import logging
import shutil
import tempfile
import time
from pathlib import Path

from _common import print_table, record

from deploy.paths import LAMBDA_DIR
from deploy.scratch import scratch_deployer
from local_stage.emulator.server import Emulator


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines
    server = Emulator()  # moto, answering as the local stage's emulator does
    server.start()
    url = server.url
    try:
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch)
            source = root / "lambda"
            shutil.copytree(LAMBDA_DIR, source, ignore=shutil.ignore_patterns("__pycache__"))
            deployer = scratch_deployer(root, url, source)
            rows = []
            for label, prepare in [
                ("first deploy (build + init + plan + apply)", None),
                ("no-op deploy (nothing changed)", None),
                ("code-only deploy (handler edited)", lambda: _touch(source)),
            ]:
                if prepare:
                    prepare()
                start = time.perf_counter()
                report = deployer.deploy()
                total = time.perf_counter() - start
                steps = ", ".join(f"{k} {v:.2f}" for k, v in report.timings.items())
                rows.append((label, total, f"{total:.2f} s  changed={report.changed}  ({steps})"))
            start = time.perf_counter()
            deployer.destroy()
            destroy_s = time.perf_counter() - start
    finally:
        server.stop()
    table = [(label, text) for label, _, text in rows]
    table.append(("destroy", f"{destroy_s:.2f} s"))
    table.append(("no-op deploy / first deploy", f"{rows[1][1] / rows[0][1]:.2f}"))
    table.append(("code-only deploy / first deploy", f"{rows[2][1] / rows[0][1]:.2f}"))
    record("first deploy (moto)", rows[0][1], "s")
    record(
        "code-only deploy (moto)",
        rows[2][1],
        "s",
        baseline=rows[0][1],
        baseline_name="first deploy",
    )
    record("destroy (moto)", destroy_s, "s")
    print_table("deploy of the local stage against moto (Terraform, real provider)", table)


def _touch(source: Path) -> None:
    handler = source / "codegen" / "handler.py"
    handler.write_text(handler.read_text() + "\n# bench edit\n")


if __name__ == "__main__":
    main()
