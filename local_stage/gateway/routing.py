"""HTTP API route selection: exact paths beat `{param}` paths beat `{proxy+}`, a method beats
ANY, and `$default` catches the rest; and which of the emulator's APIs a request is for."""

from collections.abc import Mapping

from local_stage.control_plane import Api, Route, apis_with_stage


def select_api(apis: Mapping[str, Api], host: str, path: str) -> Api | None:
    """The API a request is for. On AWS its host names it (`{api-id}.execute-api...`), and so
    may a request here (`{api-id}.localhost`); but such names do not resolve outside a browser,
    so a request to the gateway's own address is for the only API, or, when the emulator holds
    several (stages deployed side by side), for the one with a stage named by the path's first
    segment. None when no API, or more than one, fits."""
    named = apis.get(host.split(".", 1)[0])
    if named is not None:
        return named
    if len(apis) == 1:
        return next(iter(apis.values()))
    first = path.lstrip("/").split("/", 1)[0]
    staged = apis_with_stage(apis, first) if first != "$default" else []  # no path names it
    return staged[0] if len(staged) == 1 else None


def match_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    best: tuple[tuple[int, int, int], Route, dict[str, str]] | None = None
    default = None
    for route in routes:
        if route.route_key == "$default":
            default = route
            continue
        if route.method not in (method, "ANY"):
            continue
        params = _match_path(route.path, path)
        if params is None:
            continue
        segments = route.path.strip("/").split("/")
        literal = sum(1 for s in segments if not s.startswith("{"))
        greedy = 1 if segments and segments[-1].endswith("+}") else 0
        score = (-greedy, literal, 1 if route.method == method else 0)
        if best is None or score > best[0]:
            best = (score, route, params)
    if best is not None:
        return best[1], best[2]
    if default is not None:
        return default, {}
    return None


def _match_path(pattern: str, path: str) -> dict[str, str] | None:
    want = pattern.strip("/").split("/") if pattern.strip("/") else []
    have = path.strip("/").split("/") if path.strip("/") else []
    params: dict[str, str] = {}
    for index, segment in enumerate(want):
        if segment.startswith("{") and segment.endswith("+}"):
            rest = have[index:]
            if not rest:
                return None
            params[segment[1:-2]] = "/".join(rest)
            return params
        if index >= len(have):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            params[segment[1:-1]] = have[index]
        elif segment != have[index]:
            return None
    return params if len(have) == len(want) else None
