"""One local stack per Lambda runtime client per test run; every stage variant its tests name
deployed into it once, concurrently, beside its first tests (tests/e2e/variants.py).

The base variant deploys first; a test waits only for the variants it names, and the tests
run in the order their variants come (a module after every variant it names). A test marked
`settled` reads what the whole emulator holds (its memory, the account's reservations): it
runs after every deploy of its stack has ended.

Tests marked `runtime_client` run on a stack of each client this OS has (both on Linux,
`http` on macOS); every other test runs on one of them (tests/conftest.py chooses which).
"""

import concurrent.futures
import os
import shutil
import urllib.parse
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import Credentials

from deploy.artifacts import build_stage_layer, keep_services_for
from deploy.call import Endpoint
from deploy.deployer import DeployReport, StageDeployer
from deploy.scratch import scratch_deployer
from deploy.stages import load_stage
from deploy.terraform import TerraformError
from local_stage import supervisor
from local_stage.contract import StackState
from local_stage.emulator.retries import RETRY_LOG_MARKER
from local_stage.runtime.interpreter import CLIENTS, available_clients
from tests.conftest import stack_client
from tests.e2e.helpers import CREDENTIALS, write_function
from tests.e2e.variants import BASE, Variant

VARIANTS_MARKER = "variants"
SETTLED_MARKER = "settled"
# Deploys at once into one stack. An apply from empty is partly waiting (the AWS provider's
# ~25 s checks of each queue) and partly CPU (about 14 CPU-s of Terraform and the provider):
# on 2 cores, four at a time, beside the tests, the first tests of both stacks started 118 s
# after the stacks (the local e2e run of 87ebd54; 352 s when every deploy came first).
CONCURRENT_DEPLOYS = 4


@dataclass
class StageVariant:
    """A variant deployed as a stage of its own in a stack: its URL, outputs and logs."""

    variant: Variant
    stack: "LocalStage"
    stage: str = ""  # the deployed stage's name: the variant's, or its second try's
    outputs: dict[str, Any] = field(default_factory=dict)
    started: Any = None  # what the variant's `start` returned, once deployed

    def __post_init__(self) -> None:
        self.stage = self.stage or self.variant.stage

    @property
    def root(self) -> Path:
        return self.stack.root / "stages" / self.stage

    @property
    def function_name(self) -> str:
        return str(self.outputs["function_name"])

    def url(self, path: str = "/code-generation") -> str:
        return f"{self.stack.state.gateway_url}/{self.stage}{path}"

    def endpoint(self, credentials: Credentials | None = CREDENTIALS) -> Endpoint:
        """Where this stage answers, from its outputs as the tooling reads them (the local
        gateway under the outputs' paths), signed with `credentials` (None: unsigned)."""
        gateway = self.stack.state.gateway_url.rstrip("/")

        def local(url: Any) -> str:
            return gateway + urllib.parse.urlsplit(str(url)).path

        outputs = self.outputs
        return Endpoint(
            local(outputs["invoke_url"]), local(outputs["jobs_url"]), "us-east-1", credentials
        )

    def function_log(self, function: str | None = None) -> str:
        return self.stack.function_log(function or self.function_name)

    def deployer(self, source: Path | None = None, **overrides: Any) -> StageDeployer:
        """The deployer of this variant's stage (its Terraform state), with `overrides` over
        its variables: what a verb such as `invoke eval` is given, or a deploy a test expects
        to be refused."""
        deployer = scratch_deployer(
            self.root,
            self.stack.state.emulator_url,
            source or self.stack.source_of(self.variant),
            credentials=self.stack.state.credentials,
            **{**self.variant.all_variables(self.stage), **overrides},
        )
        deployer.target.state_dir = self.stack.state_dir  # this stack's gateway, not `.local`'s
        return deployer

    def redeploy(self, source: Path | None = None, **overrides: Any) -> DeployReport:
        """This stage changed in place: only for a variant that one test alone runs on."""
        report = self.deployer(source, **overrides).deploy()
        self.outputs = report.outputs
        return report


@dataclass
class LocalStage:
    """The shared local stack (its state and directory) and the stage variants in it."""

    state: StackState
    root: Path
    client: str
    _deploys: dict[Variant, concurrent.futures.Future[StageVariant]] = field(
        default_factory=dict, repr=False
    )
    _pool: concurrent.futures.ThreadPoolExecutor | None = field(default=None, repr=False)
    _sources: dict[str, Path] = field(default_factory=dict, repr=False)

    def deploy_variants(self, variants: Iterable[Variant]) -> None:
        """Start deploying every variant as a stage of its own, `CONCURRENT_DEPLOYS` at a time
        in this order (the layer built once for all, first); `on` waits for one of them."""
        deployed = [StageVariant(variant, self) for variant in variants]
        if not deployed:
            return
        stage = load_stage("local")
        layer_dir = self.root / "layer"
        build_stage_layer(
            stage.arch,
            stage.python_version,
            keep_services=keep_services_for(None),
            report=lambda line: None,
            build_dir=layer_dir,
        )
        self._pool = concurrent.futures.ThreadPoolExecutor(
            CONCURRENT_DEPLOYS, thread_name_prefix=f"deploy-{self.client}"
        )
        for each in deployed:
            self._deploys[each.variant] = self._pool.submit(self._deploy, each, layer_dir)

    def source_of(self, variant: Variant) -> Path:
        """The variant's function source tree (a stub's written once per stack)."""
        if variant.name not in self._sources:
            self._sources[variant.name] = variant.source(self.root)
        return self._sources[variant.name]

    def settle(self) -> None:
        """Wait until every deploy of this stack has ended (deployed or failed)."""
        concurrent.futures.wait(self._deploys.values())

    def close(self) -> None:
        """Stop deploying: wait for the deploys that run, start no other."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _deploy(self, first: StageVariant, layer_dir: Path) -> StageVariant:
        """`first` deployed; if that fails, the variant once more as a stage of another name.

        A safety net for a deploy that fails for a reason of the machine, not of the variant:
        it caught the AWS provider's five-minute 409 loop on a CreateFunction whose first
        answer was lost (the emulator now answers such a retry itself:
        local_stage/emulator/retries.py). The first failure is a warning of the run."""
        try:
            return self._apply(first, layer_dir)
        except TerraformError as exc:
            second = StageVariant(first.variant, self, f"{first.stage}2")
            warnings.warn(
                f"variant {first.variant.name!r}: deploying stage {first.stage} failed, deployed "
                f"again as {second.stage}: {' '.join(str(exc).split())[-600:]}",
                stacklevel=1,
            )
            return self._apply(second, layer_dir)

    @staticmethod
    def _apply(stage: StageVariant, layer_dir: Path) -> StageVariant:
        shutil.copytree(layer_dir, stage.root / "build", dirs_exist_ok=True)
        stage.outputs = stage.deployer().deploy().outputs
        if stage.variant.start is not None:
            try:
                stage.started = stage.variant.start(stage)
            except Exception as exc:
                raise RuntimeError(f"starting the variant's scenario failed: {exc}") from exc
        return stage

    def on(self, variant: Variant) -> StageVariant:
        """The deployed stage of a variant the test named (`@pytest.mark.variants`), once its
        deploy has ended."""
        if variant not in self._deploys:
            pytest.fail(
                f"variant {variant.name!r} is not deployed on this stack: name it with "
                f"@pytest.mark.{VARIANTS_MARKER}(...) on the test or its module"
            )
        try:
            return self._deploys[variant].result()
        except Exception as exc:  # the tests on this variant fail with it
            pytest.fail(f"variant {variant.name!r} failed to deploy: {type(exc).__name__}: {exc}")

    def deployer(self, **overrides: Any) -> StageDeployer:
        """A deployer of a stage that is never deployed (`local-spare`), with `overrides` over
        the base variant's variables: for reading the account (a preflight) without touching
        a stage that other tests run on."""
        return StageVariant(Variant("spare"), self).deployer(**overrides)

    def function_source(
        self, name: str, handler_source: str, files: dict[str, str] | None = None
    ) -> Path:
        """A function source tree of its own under this stack's directory (see
        `write_function`), e.g. a new version for `StageVariant.redeploy`."""
        return write_function(self.root / "functions" / name, handler_source, files)

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    def function_log(self, function: str) -> str:
        """A function's log, as the stack's runtime writes it."""
        return (self.state_dir / "logs" / f"{function}.log").read_text()


def declared_variants(items: Iterable[pytest.Item], client: str) -> list[Variant]:
    """The variants the tests of `client`'s stack name, each once: the base variant first
    (most tests run on it), the others in the order of use."""
    found: dict[Variant, None] = {}
    for item in items:
        if stack_client(item) != client:
            continue
        for marker in item.iter_markers(VARIANTS_MARKER):
            for variant in marker.args:
                if not isinstance(variant, Variant):
                    raise TypeError(f"{item.nodeid}: @pytest.mark.variants takes Variant objects")
                found.setdefault(variant)
    return sorted(found, key=lambda variant: variant != BASE)


def _variants_of(item: pytest.Item) -> list[Variant]:
    return [variant for marker in item.iter_markers(VARIANTS_MARKER) for variant in marker.args]


def _module_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


@pytest.hookimpl(trylast=True)  # after pytest has grouped the tests by stack
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each stack's tests together: first the modules whose variants deploy first (a module
    comes after the last of its variants in the order they deploy, so that its tests wait for
    none while others deploy), then those marked `settled`, those marked `breaks_stack` (they
    stop part of the stack) last."""
    rank = {
        (client, variant): index
        for client in CLIENTS
        for index, variant in enumerate(declared_variants(items, client))
    }
    module_rank: dict[tuple[str, str], int] = {}
    for item in items:
        client = stack_client(item)
        if client is None:
            continue
        key = (client, _module_of(item))
        needed = [rank[(client, variant)] for variant in _variants_of(item)]
        module_rank[key] = max([module_rank.get(key, 0), *needed])

    def place(item: pytest.Item) -> tuple[int, bool, bool, int]:
        client = stack_client(item)
        if client is None:
            return (-1, False, False, 0)
        return (
            CLIENTS.index(client),
            item.get_closest_marker("breaks_stack") is not None,
            item.get_closest_marker(SETTLED_MARKER) is not None,
            module_rank[(client, _module_of(item))],
        )

    items.sort(key=place)


@pytest.fixture(autouse=True)
def _settled_stack(request: pytest.FixtureRequest) -> None:
    """A test marked `settled` starts once its stack has no deploy running."""
    if request.node.get_closest_marker(SETTLED_MARKER) and "local_stage" in request.fixturenames:
        request.getfixturevalue("local_stage").settle()


@pytest.fixture(scope="session")
def local_stage(request, tmp_path_factory) -> Iterator[LocalStage]:
    """The stack of the runtime client this test is parametrized with (tests/conftest.py),
    with every variant its tests name deployed."""
    if shutil.which("terraform") is None and not os.environ.get("CODEGEN_TERRAFORM"):
        pytest.fail("terraform is not on PATH (install Terraform >= 1.5)")
    client = request.param
    root = tmp_path_factory.mktemp(f"local-stack-{client}")
    # The stacks of one run share the machine's cores: llama.cpp threads that outnumber the
    # cores spin against each other, and every generation slows down many times over.
    threads = max(1, (os.cpu_count() or 1) // len(available_clients()))
    state, started = supervisor.up(
        model=supervisor.ModelChoice(threads=threads),
        state_dir=root / "state",
        python=load_stage("local").python_version,
        report=lambda line: None,
        client=client,
        credentials=(CREDENTIALS.access_key, CREDENTIALS.secret_key),
    )
    assert started
    stack = LocalStage(state, root, client)
    try:
        stack.deploy_variants(declared_variants(request.session.items, client))
        yield stack
    finally:
        stack.close()
        supervisor.down(state_dir=root / "state")  # (a `breaks_stack` test may have already)
        _warn_of_retried_calls(root / "state" / "logs" / "server.log")


def _warn_of_retried_calls(server_log: Path) -> None:
    """Each call the emulator answered twice (an SDK's retry after a lost answer), as a warning
    of the run: what to look at if deploys fail with conflicts again."""
    try:
        lines = server_log.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return
    retried = [line for line in lines if RETRY_LOG_MARKER in line]
    if retried:
        shown = "\n".join(retried[:10])
        warnings.warn(
            f"the emulator answered {len(retried)} retried calls again:\n{shown}", stacklevel=1
        )
