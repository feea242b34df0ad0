"""The local stage server process: emulator, gateway, runtime and the SQS pollers of event
source mappings in one asyncio process.

    python -m local_stage.server [--port N] [--emulator-port N] [--model-url URL]
                                 [--account-concurrency N]

Writes .local/stack.json once ready and removes it on exit (SIGTERM or SIGINT), after
stopping every worker it started.
"""

import argparse
import asyncio
import logging
import os
import signal
from pathlib import Path

from aiohttp import web

from local_stage.console.app import Console
from local_stage.console.feed import RequestFeed
from local_stage.contract import (
    BUILD_DIR,
    RUNTIMES_DIR,
    STACK_FILE_NAME,
    STATE_DIR,
    StackState,
    server_credentials,
    server_token,
)
from local_stage.control_plane import ControlPlane
from local_stage.emulator.account import DEFAULT_CONCURRENCY_LIMIT, AccountFacts
from local_stage.emulator.principals import Principals
from local_stage.emulator.server import Emulator
from local_stage.event_sources.sqs import EventSourcePollers
from local_stage.gateway.app import Gateway
from local_stage.logs.shipper import LogShipper
from local_stage.runtime.service import RuntimeService, RuntimeSettings

logger = logging.getLogger("local_stage")


async def serve(
    port: int,
    emulator_port: int,
    model_url: str | None,
    region: str,
    max_concurrency: int,
    state_dir: Path,
    runtimes_dir: Path,
    build_dir: Path,
    stack_file: Path,
    account_concurrency: int = DEFAULT_CONCURRENCY_LIMIT,
) -> None:
    token = server_token()  # before anything is started: nothing inherits them
    credentials = server_credentials()
    emulator = Emulator(emulator_port, token, AccountFacts(account_concurrency), credentials)
    emulator.start()
    endpoints = {"AWS_ENDPOINT_URL": emulator.url}
    if model_url:
        endpoints["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = model_url
    shipper = LogShipper(emulator.url, region, credentials)
    shipper.start()
    runtime = RuntimeService(
        RuntimeSettings(
            root=state_dir,
            runtimes=runtimes_dir,
            build_dir=build_dir,
            region=region,
            endpoints=endpoints,
            credentials=credentials,
            max_concurrency=max_concurrency,
        ),
        shipper,
    )
    await runtime.start()
    control = ControlPlane(emulator.url, region, emulator.changes, credentials)
    pollers = EventSourcePollers(control, runtime, max_concurrency)
    await pollers.start()
    preparing = asyncio.get_running_loop().create_task(runtime.prepare_deployed(control))
    principals = Principals({credentials[0]: credentials[1]})
    feed = RequestFeed()
    console = Console(
        control,
        feed,
        runtime,
        pollers,
        state_dir=state_dir,
        emulator_url=emulator.url,
        token=token,
        credentials=credentials,
    )
    gateway = Gateway(
        control,
        runtime,
        principals,
        state_dir / "logs" / "access.log",
        token,
        shipper,
        on_served=feed.record,
        own_routes=console.add_routes,
    )
    runner = web.AppRunner(gateway.app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    state = StackState(
        os.getpid(),
        emulator.url,
        f"http://127.0.0.1:{bound}",
        model_url,
        token,
        *credentials,
    )
    state.write(stack_file)
    logger.info("local stage ready: gateway %s, emulator %s", state.gateway_url, emulator.url)
    try:
        await stopping.wait()
    finally:
        logger.info("stopping")
        preparing.cancel()
        await pollers.stop()
        await runtime.stop()
        await runner.cleanup()
        shipper.stop()
        emulator.stop()
        stack_file.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="gateway port (0: any free one)")
    parser.add_argument("--emulator-port", type=int, default=0)
    parser.add_argument("--model-url", default=os.environ.get("CODEGEN_MODEL_URL"))
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument(
        "--max-concurrency", type=int, default=4, help="warm workers per function at most"
    )
    parser.add_argument(
        "--account-concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY_LIMIT,
        help="the emulated account's Lambda concurrency limit (AWS's default: %(default)s)",
    )
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR)
    parser.add_argument("--runtimes-dir", type=Path, default=RUNTIMES_DIR)
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR)
    parser.add_argument("--stack-file", type=Path, default=STATE_DIR / STACK_FILE_NAME)
    args = parser.parse_args()
    (args.state_dir / "logs").mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per emulator request
    asyncio.run(
        serve(
            args.port,
            args.emulator_port,
            args.model_url,
            args.region,
            args.max_concurrency,
            args.state_dir.resolve(),
            args.runtimes_dir.resolve(),
            args.build_dir.resolve(),
            args.stack_file,
            args.account_concurrency,
        )
    )


if __name__ == "__main__":
    main()
