"""The model server process (started by `invoke local.up`, or by hand):

    python -m local_stage.model.server [--port N] [--model PATH.gguf]
    python -m local_stage.model.server --openai-url http://127.0.0.1:8000 --openai-model NAME
    python -m local_stage.model.server --script answer.json   (local_stage.model.scripted)

Loads the model once, then serves until SIGTERM/SIGINT. Writes its state file (pid, URL,
model) once ready and removes it on exit.
"""

import argparse
import asyncio
import json
import logging
import os
import signal
from pathlib import Path

from aiohttp import web

from local_stage.contract import ModelServerState, server_credentials, server_token
from local_stage.model.app import ModelServer
from local_stage.model.engine import Engine
from local_stage.model.llama_engine import (
    DEFAULT_CONTEXT,
    DEFAULT_PARALLEL,
    LlamaEngine,
    LlamaEngineError,
)
from local_stage.model.models import MODEL_VARIABLE, ModelNotFound, model_source, resolve_gguf
from local_stage.model.openai_engine import OpenAICompatibleEngine
from local_stage.model.scheduler import Scheduler
from local_stage.model.scripted import Script, ScriptedEngine

logger = logging.getLogger("local_stage.model")
OPENAI_KEY_VARIABLE = "CODEGEN_OPENAI_API_KEY"  # read from the environment, never an argument


def build_engine(args: argparse.Namespace) -> Engine:
    if args.script:
        try:
            return ScriptedEngine(Script.parse(json.loads(args.script.read_text())))
        except (OSError, ValueError) as exc:
            raise SystemExit(f"error: --script {args.script}: {exc}") from None
    if args.openai_url:
        if not args.openai_model:
            raise SystemExit("--openai-url needs --openai-model (the model name it serves)")
        return OpenAICompatibleEngine(
            args.openai_url,
            args.openai_model,
            api_key=os.environ.get(OPENAI_KEY_VARIABLE),
            parallelism=args.parallelism,
            timeout_s=args.timeout,
        )
    return LlamaEngine(
        resolve_gguf(args.model),
        context=args.context,
        parallel=args.parallelism,
        threads=args.threads,
        seed=args.seed,
    )


async def serve(engine: Engine, args: argparse.Namespace) -> None:
    scheduler = Scheduler(engine, max_queue=args.max_queue, timeout_s=args.timeout)
    key_id, secret = server_credentials()
    credentials = None if args.no_auth else {key_id: secret}
    token = server_token()
    server = ModelServer(scheduler, credentials=credentials, region=args.region, token=token)
    runner = web.AppRunner(
        server.app, access_log=None, handle_signals=False, handler_cancellation=True
    )
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    url = f"http://{args.host}:{port}"
    if args.state_file:
        source = (
            f"script:{args.script.resolve()}"
            if args.script
            else model_source(args.model, args.openai_url, args.openai_model)
        )
        state = ModelServerState(os.getpid(), url, engine.name, engine.kind, source, token)
        state.write(args.state_file)
    logger.info("model server ready at %s: %s (%s)", url, engine.name, engine.kind)
    try:
        await stopping.wait()
    finally:
        logger.info("stopping")
        await runner.cleanup()
        await asyncio.to_thread(server.close)
        if args.state_file:
            args.state_file.unlink(missing_ok=True)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (a non-loopback one: a request from another machine "
        "must carry the token, on every path)",
    )
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument(
        "--model",
        default=os.environ.get(MODEL_VARIABLE),
        help=f"a GGUF file (default: SmolLM2-135M-Instruct; env {MODEL_VARIABLE})",
    )
    parser.add_argument(
        "--context", type=int, default=DEFAULT_CONTEXT, help="tokens per request (prompt + answer)"
    )
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all)")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="fixed sampling seed (default: a new one per request)",
    )
    parser.add_argument(
        "--openai-url",
        default=os.environ.get("CODEGEN_OPENAI_URL"),
        help="forward to this OpenAI-compatible server instead of a GGUF",
    )
    parser.add_argument("--openai-model", default=os.environ.get("CODEGEN_OPENAI_MODEL"))
    parser.add_argument(
        "--script",
        type=Path,
        default=None,
        help="answer every request with this JSON script (text, tokens_per_s, "
        "first_token_delay_s, ...) instead of a model: no CPU, the script's timing",
    )
    parser.add_argument(
        "--parallelism",
        type=int,
        default=DEFAULT_PARALLEL,
        help="requests generated at once (decoded in one batch by llama.cpp, or forwarded "
        "together to the OpenAI-compatible server)",
    )
    parser.add_argument(
        "--max-queue",
        type=int,
        default=32,
        help="waiting requests beyond which the server throttles (429)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds one generation may take (ModelTimeoutException after)",
    )
    parser.add_argument("--region", default="us-east-1", help="region requests are signed for")
    parser.add_argument("--no-auth", action="store_true", help="accept unsigned requests")
    parser.add_argument("--state-file", type=Path, default=None)
    return parser


def main() -> None:
    args = parser().parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        engine = build_engine(args)
    except (LlamaEngineError, ModelNotFound) as exc:
        raise SystemExit(f"error: {exc}") from None
    asyncio.run(serve(engine, args))


if __name__ == "__main__":
    main()
