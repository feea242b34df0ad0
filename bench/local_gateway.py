"""Local gateway figures, in one run: a direct in-process handler call vs the same call
through the local HTTP API (p50/p99 and the overhead), cold starts with the boto3 layer,
and requests per second at a few concurrency levels.

    python bench/local_gateway.py

Starts its own local stage (own state directory), deploys a trivial function through the
real Terraform (route authorization NONE, generous throttling), and stops it at the end.
"""

import asyncio
import http.client
import importlib.util
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import aiohttp
from _common import bench_stage, print_table, record, stack_dir

from deploy.scratch import scratch_deployer
from local_stage.gateway.events import IncomingRequest, RequestContext, payload_v2

HANDLER = """
import os
import boto3

# Like the real function: boto3 from the layer, clients made at import.
S3 = boto3.client("s3")
BEDROCK = boto3.client("bedrock-runtime")

def lambda_handler(event, context):
    if (event.get("queryStringParameters") or {}).get("mode") == "exit":
        os._exit(0)
    return {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "ok"}
"""
WARM_REQUESTS = 1000
COLD_STARTS = 5
RPS_REQUESTS = 2000


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def direct_latencies(source: Path, path: str) -> list[float]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the module makes clients
    spec = importlib.util.spec_from_file_location(
        "bench_handler", source / "codegen" / "handler.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    request = IncomingRequest("PUT", path, "", [("host", "x")], b"{}", "127.0.0.1")
    context = RequestContext(
        "123456789012", "api", "local", "PUT /code-generation", "r", "x", {}, {}
    )
    samples = []
    for _ in range(WARM_REQUESTS):
        start = time.perf_counter()
        module.lambda_handler(payload_v2(request, context), None)
        samples.append(time.perf_counter() - start)
    return samples


def gateway_latencies(host: str, port: int, count: int, path: str) -> list[float]:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        connection.request("PUT", path, body=b"{}", headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        samples.append(time.perf_counter() - start)
        assert response.status == 200, response.status
    connection.close()
    return samples


def cold_starts(host: str, port: int, path: str) -> list[float]:
    samples = []
    for _ in range(COLD_STARTS):
        connection = http.client.HTTPConnection(host, port, timeout=30)
        connection.request("PUT", path + "?mode=exit", body=b"{}")
        connection.getresponse().read()  # the worker exits: the next request starts a new one
        time.sleep(0.2)
        samples += gateway_latencies(host, port, 1, path)
    return samples


async def requests_per_second(url: str, concurrency: int) -> tuple[float, int]:
    errors = 0
    remaining = RPS_REQUESTS
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                async with session.put(url, data=b"{}") as response:
                    await response.read()
                    errors += response.status != 200

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return RPS_REQUESTS / (time.perf_counter() - start), errors


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with bench_stage(root) as state:
            source = root / "lambda"
            (source / "codegen").mkdir(parents=True)
            (source / "codegen" / "__init__.py").write_text("")
            (source / "codegen" / "handler.py").write_text(HANDLER)
            deployer = scratch_deployer(
                root,
                state.emulator_url,
                source,
                credentials=state.credentials,
                state_dir=stack_dir(root),
                route_authorization="NONE",
                throttling_rate_limit=100000,
                throttling_burst_limit=100000,
            )
            url = deployer.target.endpoint(deployer.deploy().outputs).generation_url
            host, port = state.gateway_url.removeprefix("http://").split(":")
            path = urllib.parse.urlsplit(url).path
            cold = cold_starts(host, int(port), path)
            gateway_latencies(host, int(port), 50, path)  # warm up
            through = gateway_latencies(host, int(port), WARM_REQUESTS, path)
            direct = direct_latencies(source, path)
            rates = {c: asyncio.run(requests_per_second(url, c)) for c in (1, 4, 16)}
            log = (stack_dir(root) / "logs" / "codegen-local.log").read_text()
            inits = [float(v) for v in re.findall(r"Init Duration: ([\d.]+) ms", log)]

    ms = 1000
    d50, d99 = percentile(direct, 50) * ms, percentile(direct, 99) * ms
    g50, g99 = percentile(through, 50) * ms, percentile(through, 99) * ms
    record("gateway overhead p50", (g50 - d50) / ms, "s")
    record("cold start (Init Duration) median", statistics.median(inits) / ms, "s")
    for concurrency, (rate, _errors) in rates.items():
        record(f"throughput at concurrency {concurrency}", rate, "requests/s")
    print_table(
        f"warm latency, {WARM_REQUESTS} sequential requests (trivial function, auth NONE)",
        [
            ("direct handler call p50 / p99", f"{d50:.3f} ms / {d99:.3f} ms"),
            ("through the local gateway p50 / p99", f"{g50:.3f} ms / {g99:.3f} ms"),
            ("gateway overhead p50 / p99", f"{g50 - d50:.3f} ms / {g99 - d99:.3f} ms"),
            ("gateway / direct p50", f"{g50 / d50:.0f}x"),
        ],
    )
    print_table(
        f"cold start with the boto3 layer (boto3 + 2 clients at import), {COLD_STARTS} runs",
        [
            (
                "first request latency median / max",
                f"{statistics.median(cold) * ms:.0f} ms / {max(cold) * ms:.0f} ms",
            ),
            ("Init Duration (REPORT) median", f"{statistics.median(inits):.0f} ms"),
        ],
    )
    print_table(
        f"throughput, {RPS_REQUESTS} requests per level (aiohttp client on the same 2 cores)",
        [
            (f"concurrency {c}", f"{rate:.0f} requests/s ({errors} errors)")
            for c, (rate, errors) in rates.items()
        ],
    )
    print(f"\n(python {sys.version.split()[0]} for the bench; workers run the function's runtime)")


if __name__ == "__main__":
    main()
