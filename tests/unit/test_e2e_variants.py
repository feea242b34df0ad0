"""The end-to-end tests' stage variants (tests/e2e/variants.py): their stage names, which of
them a stack deploys (those its tests name, once each: the base first, then in the order of
use), and the order its tests run in (after the variants they wait for)."""

from dataclasses import dataclass, field

import pytest

from tests.e2e.conftest import declared_variants, pytest_collection_modifyitems
from tests.e2e.variants import BASE, Variant


def test_each_variant_is_a_stage_of_its_own_named_after_it():
    assert BASE.stage == "local" and BASE.all_variables()["stage"] == "local"
    open_routes = Variant("open", {"route_authorization": "NONE"})
    assert open_routes.stage == "local-open"
    variables = open_routes.all_variables()
    assert variables["stage"] == "local-open" and variables["route_authorization"] == "NONE"
    assert variables["worker_timeout"] == 20  # BASE_VARIABLES stay under every variant
    assert Variant("open") == open_routes and len({Variant("open"), open_routes}) == 1
    with pytest.raises(ValueError, match="1-9 characters"):
        Variant("too-long-1")  # the stage variable allows 16: "local-", 9 and a retry's 1


@dataclass
class Marker:
    args: tuple


@dataclass
class Item:
    """What declared_variants reads of a pytest item: its stack and its markers."""

    client: str | None
    markers: list[Marker] = field(default_factory=list)
    nodeid: str = "tests/e2e/test_x.py::test_x"
    flags: tuple[str, ...] = ()  # other markers: "settled", "breaks_stack"

    @property
    def callspec(self):
        return type("Callspec", (), {"params": {"local_stage": self.client}})()

    def iter_markers(self, name: str):
        assert name == "variants"
        return iter(self.markers)

    def get_closest_marker(self, name: str):
        return Marker(()) if name in self.flags else None


def test_a_stack_deploys_the_variants_its_own_tests_name_once_each_the_base_first():
    one, two, three = Variant("one"), Variant("two"), Variant("three")
    items = [
        Item("native", [Marker((two,)), Marker((BASE,))]),
        Item("http", [Marker((three,))]),
        Item("native", [Marker((one, two))]),
        Item(None),
    ]
    assert declared_variants(items, "native") == [BASE, two, one]
    assert declared_variants(items, "http") == [three]
    with pytest.raises(TypeError, match="takes Variant objects"):
        declared_variants([Item("native", [Marker(("base",))])], "native")


def test_a_stacks_tests_run_after_the_variants_they_wait_for_settled_and_breaking_last():
    late, early = Variant("late"), Variant("early")

    def item(module: str, client: str | None, *variants: Variant, flags=()) -> Item:
        test = f"tests/e2e/{module}.py::test_{len(variants)}_{'_'.join(flags)}"
        return Item(client, [Marker(variants)] if variants else [], test, tuple(flags))

    items = [
        item("test_a", "native", early),
        item("test_a", "native", late),  # module a waits for `late`: after module b
        item("test_b", "native", BASE),
        item("test_b", "native", BASE, flags=("breaks_stack",)),
        item("test_c", "native", early, flags=("settled",)),
        item("test_d", "http", BASE),
        item("test_unit", None),
        item("test_b", "native"),  # no variant of its own: the module's
    ]
    order = list(items)
    pytest_collection_modifyitems(order)
    assert [(i.nodeid.split("::")[0][10:-3], i.client, i.flags) for i in order] == [
        ("test_unit", None, ()),
        ("test_b", "native", ()),
        ("test_b", "native", ()),
        ("test_a", "native", ()),
        ("test_a", "native", ()),
        ("test_c", "native", ("settled",)),
        ("test_b", "native", ("breaks_stack",)),
        ("test_d", "http", ()),
    ]
    assert declared_variants(order, "native") == [BASE, early, late]
