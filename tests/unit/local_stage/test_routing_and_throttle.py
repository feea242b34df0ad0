import pytest

from local_stage.control_plane import Api, Function, Route, Stage
from local_stage.gateway.routing import match_route, select_api
from local_stage.gateway.throttle import Throttle, TokenBucket


def _routes(*keys: str) -> list[Route]:
    return [Route(key, "NONE", None) for key in keys]


@pytest.mark.parametrize(
    ("method", "path", "expected", "params"),
    [
        ("PUT", "/code-generation", "PUT /code-generation", {}),
        ("GET", "/code-generation", "ANY /code-generation", {}),
        ("PUT", "/items/42", "PUT /items/{id}", {"id": "42"}),
        ("PUT", "/items/special", "PUT /items/special", {}),
        ("PUT", "/files/a/b/c", "ANY /files/{proxy+}", {"proxy": "a/b/c"}),
        ("PUT", "/nothing/here", "$default", {}),
        ("PUT", "/items/42/extra", "$default", {}),
    ],
)
def test_route_selection_follows_http_api_priorities(method, path, expected, params):
    routes = _routes(
        "ANY /code-generation",
        "PUT /code-generation",
        "PUT /items/{id}",
        "PUT /items/special",
        "ANY /files/{proxy+}",
        "$default",
    )
    route, found = match_route(routes, method, path)
    assert route.route_key == expected and found == params


def _api(api_id: str, *stages: str) -> Api:
    return Api(api_id, api_id, [], {name: Stage(name, None, None, {}, {}) for name in stages})


def test_the_api_is_the_one_the_host_names_the_only_one_or_the_one_with_the_paths_stage():
    local, long = _api("a1", "local"), _api("b2", "local-long")
    both = {"a1": local, "b2": long}
    assert select_api({"a1": local}, "127.0.0.1:9", "/local-long/x") is local  # the only one
    assert select_api(both, "b2.localhost:9", "/local/x") is long  # the host names it
    assert select_api(both, "127.0.0.1:9", "/local/code-generation") is local
    assert select_api(both, "127.0.0.1:9", "/local-long/code-generation") is long
    assert select_api(both, "127.0.0.1:9", "/other/code-generation") is None
    assert select_api({}, "127.0.0.1:9", "/local/x") is None


def test_two_apis_with_a_stage_of_one_name_are_told_apart_only_by_host():
    first, second = _api("a1", "local"), _api("b2", "local")
    both = {"a1": first, "b2": second}
    assert select_api(both, "127.0.0.1:9", "/local/x") is None
    assert select_api(both, "a1.localhost:9", "/local/x") is first
    default_only = {"a1": _api("a1", "$default"), "b2": _api("b2", "$default")}
    assert select_api(default_only, "127.0.0.1:9", "/$default/x") is None


def test_no_route_and_no_default_is_none():
    assert match_route(_routes("PUT /code-generation"), "PUT", "/other") is None
    assert match_route(_routes("PUT /code-generation"), "POST", "/code-generation") is None
    assert match_route(_routes("ANY /files/{proxy+}"), "GET", "/files") is None


def test_token_bucket_allows_the_burst_then_the_rate():
    bucket = TokenBucket(rate=2.0, burst=3)
    assert [bucket.take(now=10.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(now=10.4) is False  # 0.8 tokens
    assert bucket.take(now=10.5) is True  # 1.0 token after 0.5 s at 2/s
    assert bucket.take(now=100.0) and bucket.tokens == pytest.approx(2.0)  # capped at burst


def test_throttle_keys_are_independent_and_zero_limits_block():
    throttle = Throttle()
    assert throttle.allow(("a", "s", "r"), 1, 1)
    assert not throttle.allow(("a", "s", "r"), 1, 1)
    assert throttle.allow(("a", "s", "other"), 1, 1)
    assert not throttle.allow(("b", "s", "r"), 0, 0)
    assert throttle.allow(("c", "s", "r"), None, None)  # no limits configured


def test_permission_matching_uses_the_source_arn_pattern():
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "apigateway.amazonaws.com"},
        "Condition": {
            "ArnLike": {
                "AWS:SourceArn": "arn:aws:execute-api:us-east-1:1:api/local/PUT/code-generation"
            }
        },
    }
    function = Function("f", "arn", "h", "python3.12", 3, 128, {}, "sha", (), None, (statement,))
    assert function.allows("arn:aws:execute-api:us-east-1:1:api/local/PUT/code-generation")
    assert not function.allows("arn:aws:execute-api:us-east-1:1:api/local/GET/code-generation")
    assert not function.allows("arn:aws:execute-api:us-east-1:1:other/local/PUT/code-generation")
    wildcard = {
        **statement,
        "Condition": {
            "ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:1:api/*/*/code-generation"}
        },
    }
    assert Function("f", "a", "h", "p", 3, 1, {}, "s", (), None, (wildcard,)).allows(
        "arn:aws:execute-api:us-east-1:1:api/dev/PUT/code-generation"
    )
