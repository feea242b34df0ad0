"""The stage variants the end-to-end tests run on: each a stage of its own in the shared
stack's emulator, deployed once at the start of the run, beside the others.

A variant is a function source (lambda/, or a stub handler) and variables over the local
stage's and BASE_VARIABLES. A test names the variants it runs on with
`@pytest.mark.variants(A, B)` (or a module's `pytestmark`) and gets each deployed one with
`local_stage.on(A)`. The stack deploys every variant its tests name, concurrently, before its
first test: so no test switches a stage in place, none waits on another's deploy, and no deploy
runs while a test watches the emulator.

Variants tell their stages apart by name: the base variant is the stage `local`
(`codegen-local`), any other `local-<name>` (`codegen-local-<name>`), its API's stage too; the
local gateway finds a request's API by that first path segment.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.paths import LAMBDA_DIR
from tests.e2e.helpers import BASE_VARIABLES, write_function

STAGE = "local"
# The stage variable allows 16 characters: "local-", 9 and one more for a second try
# (tests/e2e/conftest.py).
MAX_NAME = 9


@dataclass(frozen=True, eq=False)
class Variant:
    """A stage's function and variables; two variants are one when their names are."""

    name: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    handler: str | None = None  # a stub's codegen/handler.py; None: the real function
    files: Mapping[str, str] = field(default_factory=dict)  # more files beside the handler
    # A scenario that waits out the stage's own clock (e.g. a message's deliveries to the
    # dead-letter queue), started on the deployed stage (a StageVariant) by its deploy, so
    # that it runs beside other tests; what it returns is the stage's `started`. Only for a
    # variant that one test alone runs on.
    start: Callable[[Any], Any] | None = None

    def __post_init__(self) -> None:
        if not (self.name == "base" or 0 < len(self.name) <= MAX_NAME):
            raise ValueError(f"a variant's name is 1-{MAX_NAME} characters: {self.name!r}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Variant) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    @property
    def stage(self) -> str:
        """The stage's name: its resources' (`codegen-<stage>`) and its API stage's."""
        return STAGE if self.name == "base" else f"{STAGE}-{self.name}"

    def all_variables(self, stage: str | None = None) -> dict[str, Any]:
        """Its variables over BASE_VARIABLES, deployed as `stage` (default: its own)."""
        return {**BASE_VARIABLES, **self.variables, "stage": stage or self.stage}

    def source(self, root: Path) -> Path:
        """The function's source tree (a stub's is written under `root`)."""
        if self.handler is None:
            return LAMBDA_DIR
        return write_function(root / "functions" / self.name, self.handler, dict(self.files))


BASE = Variant("base")

# A job long enough to be seen running (its progress recorded, at most every 5 s) for a while:
# one worker at a time, with time for a scripted LONG answer (tests/e2e/helpers.py).
LONG_JOBS = Variant(
    "long", {"worker_timeout": 240, "job_visibility_timeout": 250, "reserved_concurrency": 1}
)
