"""The end-to-end tests' stage variants (tests/e2e/variants.py): their stage names, and which
of them a stack deploys (those its tests name, once each, in the order of use)."""

from dataclasses import dataclass, field

import pytest

from tests.e2e.conftest import declared_variants
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

    @property
    def callspec(self):
        return type("Callspec", (), {"params": {"local_stage": self.client}})()

    def iter_markers(self, name: str):
        assert name == "variants"
        return iter(self.markers)


def test_a_stack_deploys_the_variants_its_own_tests_name_once_each_in_order_of_use():
    one, two, three = Variant("one"), Variant("two"), Variant("three")
    items = [
        Item("native", [Marker((two,)), Marker((BASE,))]),
        Item("http", [Marker((three,))]),
        Item("native", [Marker((one, two))]),
        Item(None),
    ]
    assert declared_variants(items, "native") == [two, BASE, one]
    assert declared_variants(items, "http") == [three]
    with pytest.raises(TypeError, match="takes Variant objects"):
        declared_variants([Item("native", [Marker(("base",))])], "native")
