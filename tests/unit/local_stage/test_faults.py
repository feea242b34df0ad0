"""The local emulator's fault rules: which requests they hit, and what they refuse."""

import pytest

from local_stage.faults import FaultRule, FaultTable


def test_a_rule_hits_its_method_and_path_glob_only():
    rule = FaultRule.parse({"method": "put", "path": "/bucket/code-output/*", "status": 503})
    assert rule.matches("PUT", "/bucket/code-output/2026/a.py")
    assert not rule.matches("GET", "/bucket/code-output/2026/a.py")
    assert not rule.matches("PUT", "/other/code-output/a.py")


def test_a_rule_with_times_stops_hitting_after_that_many_requests():
    table = FaultTable()
    table.add(FaultRule.parse({"path": "/b/*", "times": 2, "delay_s": 0.5}))
    assert [table.take("PUT", "/b/k") is not None for _ in range(3)] == [True, True, False]
    table.add(FaultRule.parse({"path": "/b/*"}))
    table.clear()
    assert table.take("PUT", "/b/k") is None


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"path": 3},
        {"path": "/x", "delay_s": -1},
        {"path": "/x", "delay_s": 1e9},
        {"path": "/x", "status": 200},
        {"path": "/x", "status": "soon"},
    ],
)
def test_malformed_rules_are_refused(data):
    with pytest.raises((ValueError, TypeError)):
        FaultRule.parse(data)
