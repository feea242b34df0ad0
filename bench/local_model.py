"""Local model figures, in one run: llama.cpp's own generation speed (the engine called
directly in this process) against the model server's for the same request, the speed-up from
batching at concurrency 4 (4 requests at once against the same 4 one after another), the
server's time to first token, and the end-to-end latency of PUT /code-generation through the
whole local stack (gateway -> runtime worker -> function -> model server and S3), set against
the model's own time for the same requests.

    python bench/local_model.py

Starts its own local stage (own state directory, the default model), deploys the real
function through the real Terraform, and stops it all at the end.
"""

import concurrent.futures
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import boto3
from _common import bench_stage, print_table, record, stack_dir
from botocore.config import Config
from botocore.credentials import Credentials

from deploy.call import call
from deploy.paths import LAMBDA_DIR
from deploy.scratch import scratch_deployer
from deploy.stages import load_stage
from local_stage import supervisor
from local_stage.model.chat import ChatRequest, Message
from local_stage.model.engine import Job
from local_stage.model.llama_engine import LlamaEngine
from local_stage.model.models import default_gguf

sys.path.insert(0, str(LAMBDA_DIR))
from codegen.generation.languages import find_language  # the function's own prompt
from codegen.generation.prompt import system_prompt

MODEL_ID = "anthropic.claude-haiku-5-5"
STREAM_RUNS = 5
PUT_RUNS = 10
SPEED_RUNS = 7
SPEED_PROMPT = "Write an essay about rivers."
SPEED_TOKENS = 256
BATCH = 4
BATCH_PROMPTS = [
    "Write a short poem about the sea.",
    "Write a short poem about rivers.",
    "Describe a cat in three sentences.",
    "Explain what a compiler does.",
]
BATCH_TOKENS = 100
TASKS = [
    "a function that checks whether a string is a palindrome",
    "a function that returns the n-th Fibonacci number",
    "a function that counts the words in a text",
]

PROMPT = load_stage("local").variables["system_prompt"]  # the stage's own template


def bedrock(url: str, credentials: tuple[str, str]):
    """The model server's client, signing with the stack's own pair."""
    config = Config(retries={"total_max_attempts": 1}, read_timeout=120)
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=credentials[0],
        aws_secret_access_key=credentials[1],
        config=config,
    )


def streamed(client, task: str, max_tokens: int, temperature: float) -> tuple[float, float, int]:
    """(time to first token, total time, output tokens) of one ConverseStream call."""
    start = time.perf_counter()
    first = None
    response = client.converse_stream(
        modelId=MODEL_ID,
        system=[{"text": system_prompt(find_language("python"), PROMPT)}],
        messages=[{"role": "user", "content": [{"text": task}]}],
        inferenceConfig={"maxTokens": max_tokens, "temperature": temperature},
    )
    tokens = 0
    for event in response["stream"]:
        if "contentBlockDelta" in event and first is None:
            first = time.perf_counter() - start
        if "metadata" in event:
            tokens = event["metadata"]["usage"]["outputTokens"]
    return first or 0.0, time.perf_counter() - start, tokens


def model_seconds(client, task: str) -> float:
    """The model's own time for what the function asks (same prompt and settings)."""
    start = time.perf_counter()
    client.converse(
        modelId=MODEL_ID,
        system=[{"text": system_prompt(find_language("python"), PROMPT)}],
        messages=[{"role": "user", "content": [{"text": task}]}],
        inferenceConfig={"maxTokens": 512, "temperature": 0.0},
    )
    return time.perf_counter() - start


def speed_pair(client) -> tuple[float, float]:
    """(llama.cpp called directly in this process, the model server) tokens per second for
    the same greedy request, medians of SPEED_RUNS runs taken in turn, so that both see the
    same machine (on 2 cores, a run of one after the other would compare two moments)."""
    engine = LlamaEngine(default_gguf(), threads=os.cpu_count())
    request = ChatRequest(
        (Message("user", SPEED_PROMPT),), max_tokens=SPEED_TOKENS, temperature=0.0
    )
    direct, served = [], []
    try:
        engine.generate(Job(ChatRequest((Message("user", "hi"),), max_tokens=8)))  # warm up
        for _ in range(SPEED_RUNS):
            start = time.perf_counter()
            completion = engine.generate(Job(request))
            direct.append(completion.output_tokens / (time.perf_counter() - start))
            start = time.perf_counter()
            response = client.converse(
                modelId=MODEL_ID,
                messages=[{"role": "user", "content": [{"text": SPEED_PROMPT}]}],
                inferenceConfig={"maxTokens": SPEED_TOKENS, "temperature": 0.0},
            )
            served.append(response["usage"]["outputTokens"] / (time.perf_counter() - start))
    finally:
        engine.close()
    return statistics.median(direct), statistics.median(served)


def batch_seconds(client) -> tuple[float, float, bool]:
    """(one after another, all at once, same texts) for BATCH short greedy requests."""

    def ask(prompt: str) -> str:
        response = client.converse(
            modelId=MODEL_ID,
            messages=[{"role": "user", "content": [{"text": prompt}]}],
            inferenceConfig={"maxTokens": BATCH_TOKENS, "temperature": 0.0},
        )
        return response["output"]["message"]["content"][0]["text"]

    start = time.perf_counter()
    alone = [ask(prompt) for prompt in BATCH_PROMPTS]
    sequential = time.perf_counter() - start
    with concurrent.futures.ThreadPoolExecutor(max_workers=BATCH) as pool:
        start = time.perf_counter()
        together = list(pool.map(ask, BATCH_PROMPTS))
        concurrent_s = time.perf_counter() - start
    return sequential, concurrent_s, together == alone


def deploy(root: Path, state) -> str:
    """The stage deployed as it is (signed routes); the URL of PUT /code-generation, from its
    outputs."""
    deployer = scratch_deployer(
        root, state.emulator_url, credentials=state.credentials, state_dir=stack_dir(root)
    )
    return deployer.target.endpoint(deployer.deploy().outputs).generation_url


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        with bench_stage(root) as state:
            up_seconds = time.perf_counter() - started
            model = supervisor.status(root / "state").model
            client = bedrock(state.model_url or "", state.credentials)
            streamed(client, TASKS[0], 16, 0.0)  # warm up
            direct, served = speed_pair(client)
            sequential, together, same_texts = batch_seconds(client)
            generation = [
                streamed(client, "Write an essay about rivers.", 256, 0.8)
                for _ in range(STREAM_RUNS)
            ]
            first_tokens = [streamed(client, task, 64, 0.0)[0] for task in TASKS * 2]
            url = deploy(root, state)
            credentials = Credentials(*state.credentials)
            puts, tokens, model_times = [], [], []
            for index in range(PUT_RUNS):
                task = TASKS[index % len(TASKS)]
                body = json.dumps({"message": task, "key": "python", "temperature": 0}).encode()
                start = time.perf_counter()
                result = call(url, body, region="us-east-1", credentials=credentials)
                puts.append(time.perf_counter() - start)
                assert result.status == 200, result.body
                tokens.append(result.json()["usage"]["output_tokens"])
                model_times.append(model_seconds(client, task))

    rates = [(count - 1) / (total - first) for first, total, count in generation if count > 1]
    ms = 1000
    record(
        "model server tokens/s",
        served,
        "tokens/s",
        baseline=direct,
        baseline_name="llama.cpp called directly",
    )
    record(
        "4 requests at once",
        together,
        "s",
        baseline=sequential,
        baseline_name="the same 4 one after another",
    )
    record("time to first token median", statistics.median(first_tokens), "s")
    record(
        "PUT /code-generation end to end median",
        statistics.median(puts),
        "s",
        baseline=statistics.median(model_times),
        baseline_name="the model's own time",
    )
    print_table(
        f"llama.cpp called directly vs the model server, greedy, {SPEED_TOKENS} tokens, "
        f"median of {SPEED_RUNS}",
        [
            ("engine called directly (baseline)", f"{direct:.1f} tokens/s"),
            ("model server (boto3 Converse, whole request)", f"{served:.1f} tokens/s"),
            ("server / direct", f"{served / direct:.3f}x (goal >= 0.95x)"),
        ],
    )
    print_table(
        f"batching: {BATCH} requests of up to {BATCH_TOKENS} tokens, greedy",
        [
            ("one after another (baseline)", f"{sequential * ms:.0f} ms"),
            (f"{BATCH} at once", f"{together * ms:.0f} ms"),
            (
                "at once / one after another",
                f"{together / sequential:.2f}x (speed-up {sequential / together:.2f}x)",
            ),
            ("same texts at once as alone", str(same_texts)),
        ],
    )
    print_table(
        f"model server: {model.model if model else '?'} ({model.backend if model else '?'}), "
        f"started with the stack in {up_seconds:.1f} s",
        [
            (
                f"generation speed, median of {len(rates)} x 256 tokens",
                f"{statistics.median(rates):.1f} tokens/s",
            ),
            (
                "time to first token, median / max",
                f"{statistics.median(first_tokens) * ms:.0f} ms / {max(first_tokens) * ms:.0f} ms",
            ),
        ],
    )
    overheads = [put - own for put, own in zip(puts, model_times, strict=True)]
    print_table(
        f"PUT /code-generation end to end, {PUT_RUNS} signed requests (python, temperature 0)",
        [
            (
                "latency median / max",
                f"{statistics.median(puts) * ms:.0f} ms / {max(puts) * ms:.0f} ms",
            ),
            ("output tokens median", f"{statistics.median(tokens):.0f}"),
            (
                "the model's own time for the same request, median",
                f"{statistics.median(model_times) * ms:.0f} ms",
            ),
            ("stack overhead (PUT - model), median", f"{statistics.median(overheads) * ms:.0f} ms"),
            (
                "PUT / model time, median ratio",
                f"{statistics.median(p / m for p, m in zip(puts, model_times, strict=True)):.2f}x",
            ),
        ],
    )


if __name__ == "__main__":
    main()
