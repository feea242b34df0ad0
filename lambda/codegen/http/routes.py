"""The API's routes, in one table: the only place in the function that spells a route's path.

API Gateway puts the route it matched in the event (`routeKey`); the service dispatches on it.
Terraform creates the same route keys (terraform/main.tf) and lambda/openapi.yaml documents
the same paths and methods: tests/unit/function/test_routes.py holds the three equal.
"""

from dataclasses import dataclass

from codegen.http.errors import HttpError
from codegen.http.events import HttpRequest


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # a template: {name} stands for one path segment

    @property
    def key(self) -> str:
        """API Gateway's route key, e.g. "PUT /code-generation"."""
        return f"{self.method} {self.path}"

    def url_path(self, http: HttpRequest, **parameters: str) -> str:
        """This route's path on the request's stage, with `parameters` filled in."""
        path = self.path
        for name, value in parameters.items():
            path = path.replace(f"{{{name}}}", value)
        return f"{http.stage_path}{path}"


GENERATE = Route("PUT", "/code-generation")
# The job routes: served by a function of their own on AWS (terraform/main.tf), so that
# synchronous generations cannot take the capacity they need.
SUBMIT_JOB = Route("POST", "/code-generation/jobs")
READ_JOB = Route("GET", "/code-generation/jobs/{id}")
ROUTES = (GENERATE, SUBMIT_JOB, READ_JOB)


def route_of(http: HttpRequest) -> Route:
    """The route the event names; 405 for another method on a route's path (a `$default` or
    `ANY` route in front of the function), 404 for a path that is none of ours."""
    path = http.route_key.split(" ", 1)[-1]
    on_path = [route for route in ROUTES if route.path == path]
    for route in on_path:
        if route.method == http.method:
            return route
    if on_path:
        allowed = ", ".join(route.method for route in on_path)
        raise HttpError(
            405,
            "MethodNotAllowed",
            f"{http.method} is not supported here; send {' or '.join(r.key for r in on_path)}",
            headers={"Allow": allowed},
        )
    raise HttpError(
        404,
        "NotFound",
        f"no route {http.route_key!r} here; the routes are {', '.join(r.key for r in ROUTES)}",
    )
