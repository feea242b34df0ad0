"""One table of routes: the function's (codegen/http/routes.py), the route keys Terraform creates
and the paths and methods the published contract documents are the same set, and every route
in the table reaches a handler."""

import json
import re

import yaml

from codegen.http.routes import GENERATE, READ_JOB, ROUTES
from deploy.paths import LAMBDA_DIR, TERRAFORM_DIR
from tests.unit.function.helpers import FakeContext, http_event, job_event

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def terraform_route_keys() -> set[str]:
    """The route keys terraform/main.tf gives the HTTP API module (`local.routes`)."""
    text = (TERRAFORM_DIR / "main.tf").read_text()
    (block,) = re.findall(r"^  routes = \{\n(.*?)^  \}", text, re.MULTILINE | re.DOTALL)
    return {json.loads(value) for value in re.findall(r"^\s*\w+\s*=\s*(\".*\")$", block, re.M)}


def contract_route_keys() -> set[str]:
    spec = yaml.safe_load((LAMBDA_DIR / "openapi.yaml").read_text())
    return {
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }


def test_the_function_terraform_and_the_contract_know_the_same_routes():
    table = {route.key for route in ROUTES}
    assert table == terraform_route_keys()
    assert table == contract_route_keys()


def test_every_route_reaches_its_handler(service):
    assert set(service._handlers) == set(ROUTES)
    generated = service.handle(http_event({"message": "m", "key": "nope"}), FakeContext())
    assert json.loads(generated["body"])["field"] == "key"  # the generation handler refused it
    job = service.handle(job_event("not-a-uuid"), FakeContext())
    assert json.loads(job["body"])["error"] == "InvalidJobId"  # the job reader refused it


def test_another_method_on_a_routes_path_is_405_and_an_unknown_route_404(service):
    wrong = http_event({"message": "m", "key": "py"}, method="DELETE")
    result = service.handle(wrong, FakeContext())
    assert result["statusCode"] == 405 and result["headers"]["Allow"] == GENERATE.method
    unknown = {**http_event({}), "routeKey": "PUT /elsewhere"}
    result = service.handle(unknown, FakeContext())
    assert result["statusCode"] == 404 and GENERATE.key in json.loads(result["body"])["message"]
    assert READ_JOB.key in json.loads(result["body"])["message"]


def test_a_payload_1_0_event_is_routed_by_its_resource(service):
    event = http_event({"message": "m", "key": "nope"}, version="1.0")
    assert json.loads(service.handle(event, FakeContext())["body"])["field"] == "key"
