"""The local emulator's fault rules: which requests they hit, what they refuse, and the
control path that sets and lists them."""

import io
import json

import pytest

from local_stage.faults import PATH, FaultRule, FaultTable, injecting


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


def test_the_control_path_lists_the_rules_with_their_hits():
    table = FaultTable()
    app = injecting(lambda environ, start_response: [b"backend"], table)

    def call(
        method: str, path: str, body: bytes = b"", content_type: str = "application/json"
    ) -> tuple[str, bytes]:
        seen: list[str] = []
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        answer = b"".join(app(environ, lambda status, headers: seen.append(status)))
        return (seen[0] if seen else "200 OK"), answer

    assert call("POST", PATH, json.dumps({"path": "/m/*", "times": 1}).encode())[0] == "200 OK"
    assert call("POST", "/m/converse") == ("200 OK", b"backend")
    status, answer = call("GET", PATH)
    assert status == "200 OK"
    assert [(r["path"], r["times"], r["hits"]) for r in json.loads(answer)["rules"]] == [
        ("/m/*", 1, 1)
    ]
    assert call("PUT", PATH)[0].startswith("405")
    # A browser's "simple" cross-origin POST (text/plain, a form) is never taken as a rule.
    rule = json.dumps({"path": "/m/*"}).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", ""):
        assert call("POST", PATH, rule, content_type)[0].startswith("415")
    assert len(json.loads(call("GET", PATH)[1])["rules"]) == 1
