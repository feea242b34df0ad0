"""Layer build figures, in one run: cold build, no-op rebuild, the manual recipe, pruning.

    python bench/layer_build.py

Manual recipe = `pip install -r lambda/requirements.txt -t python/` + zip of everything (the
way most tutorials build a layer): for the build machine's Python, with bin/ and bytecode.
"""

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from _common import median_seconds, print_table, record, timed

from deploy.paths import REQUIREMENTS_FILE, SERVICES_FILE
from deploy.stages import load_stage
from layer_builder import LayerBuildRequest, Target, build_layer
from layer_builder.progress import silent_reporter
from layer_builder.services import read_services

MB = 1e6


def manual_recipe(workdir: Path) -> Path:
    target = workdir / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "-r",
            str(REQUIREMENTS_FILE),
            "-t",
            str(target),
        ],
        check=True,
        capture_output=True,
    )
    archive = workdir / "manual.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(target.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(workdir))
    return archive


def unzipped_size(archive: Path) -> int:
    with zipfile.ZipFile(archive) as zipped:
        return sum(info.file_size for info in zipped.infolist())


def cold_import_seconds(layer_zip: Path, workdir: Path, runs: int = 5) -> float:
    """Median time to import boto3 and create the function's two clients, no bytecode cache
    (Lambda's /opt is read-only, so a layer without bytecode compiles on every cold start)."""
    unpacked = workdir / layer_zip.stem
    with zipfile.ZipFile(layer_zip) as zipped:
        zipped.extractall(unpacked)
    code = (
        "import boto3\n"
        "s = boto3.Session(aws_access_key_id='x', aws_secret_access_key='y', "
        "region_name='us-east-1')\n"
        "s.client('s3'); s.client('bedrock-runtime')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(unpacked / "python"), "PYTHONDONTWRITEBYTECODE": "1"}

    def run() -> None:
        subprocess.run([sys.executable, "-c", code], env=env, check=True)

    return median_seconds(run, runs)


_LOCAL = load_stage("local")
TARGET = Target(_LOCAL.arch, _LOCAL.python_version)


def main() -> None:
    keep = read_services(SERVICES_FILE)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)

        def build(build_dir: Path, keep_services: list[str] | None):
            request = LayerBuildRequest(
                REQUIREMENTS_FILE, build_dir, TARGET, keep_services=keep_services
            )
            return build_layer(request, report=silent_reporter)

        cold_s, cold = timed(lambda: build(work / "build", keep))
        noop_s, noop = timed(lambda: build(work / "build", keep))
        assert noop.up_to_date and noop.manifest.sha256 == cold.manifest.sha256
        full_s, full = timed(lambda: build(work / "build-full", None))
        (work / "manual").mkdir()
        manual_s, manual_zip = timed(lambda: manual_recipe(work / "manual"))
        manual_bytes = manual_zip.stat().st_size
        manual_unzipped = unzipped_size(manual_zip)
        again = build(work / "build-again", keep)
        identical = again.manifest.sha256 == cold.manifest.sha256

        import_pruned = cold_import_seconds(cold.zip_path, work)
        import_full = cold_import_seconds(full.zip_path, work)

    record(
        "layer cold build (pruned)",
        cold_s,
        "s",
        baseline=manual_s,
        baseline_name="manual recipe (pip -t + zip)",
    )
    record("layer no-op rebuild", noop_s, "s", baseline=cold_s, baseline_name="cold build")
    print_table(
        "layer build (boto3 layer, same requirements)",
        [
            ("cold build, pruned (ours)", f"{cold_s:.2f} s"),
            ("no-op rebuild (ours)", f"{noop_s * 1000:.1f} ms"),
            ("cold build, all models (ours)", f"{full_s:.2f} s"),
            ("manual recipe (pip -t + zip)", f"{manual_s:.2f} s"),
            ("no-op rebuild / cold build", f"{noop_s / cold_s:.4f}"),
            ("cold build / manual recipe", f"{cold_s / manual_s:.2f}"),
            ("rebuild in another dir identical", str(identical)),
        ],
    )
    print_table(
        "layer size",
        [
            (
                "pruned zip / unzipped",
                f"{cold.manifest.zipped_bytes / MB:.2f} MB / "
                f"{cold.manifest.unzipped_bytes / MB:.2f} MB",
            ),
            (
                "all models zip / unzipped",
                f"{full.manifest.zipped_bytes / MB:.2f} MB / "
                f"{full.manifest.unzipped_bytes / MB:.2f} MB",
            ),
            (
                "manual recipe zip / unzipped",
                f"{manual_bytes / MB:.2f} MB / {manual_unzipped / MB:.2f} MB",
            ),
            ("manual zip / pruned zip", f"{manual_bytes / cold.manifest.zipped_bytes:.1f}x"),
            (
                "all-models zip / pruned zip",
                f"{full.manifest.zipped_bytes / cold.manifest.zipped_bytes:.1f}x",
            ),
        ],
    )
    print_table(
        f"cold import of boto3 + s3 and bedrock-runtime clients, median of 5 "
        f"(python {sys.version_info.major}.{sys.version_info.minor}, no bytecode cache)",
        [
            ("pruned layer", f"{import_pruned * 1000:.0f} ms"),
            ("all-models layer", f"{import_full * 1000:.0f} ms"),
            ("pruned / all-models", f"{import_pruned / import_full:.2f}"),
        ],
    )


if __name__ == "__main__":
    main()
