"""The OpenAPI document covers exactly the routes the daemon serves, and is published as is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from starlette.routing import Route

from stockade.audit import SqliteAuditStore
from stockade.daemon.app import DaemonContext, create_app
from stockade.daemon.limits import Limits
from stockade.daemon.openapi import EXAMPLES, OPERATIONS, openapi_document, route_key
from stockade.daemon.pipeline import Pipeline
from stockade.home import Home
from stockade.service import DecisionService

PUBLISHED = Path(__file__).parents[2] / "docs" / "openapi.json"


@pytest.fixture
def served_routes(home: Home) -> Iterator[set[tuple[str, str]]]:
    """Every (method, path) of the app ``serve`` runs, built on a real home, service and store."""
    store = SqliteAuditStore(home.audit_path)
    store.open()
    try:
        pipeline = Pipeline(DecisionService.load(home), store)
        app = create_app(DaemonContext(home, pipeline, Limits(), request_stop=lambda: None))
        routes = [route for route in app.routes if isinstance(route, Route)]
        assert len(routes) == len(app.routes), "only plain routes are described"
        yield {
            route_key(method, route.path)
            for route in routes
            for method in route.methods or ()
            if method != "HEAD"  # Starlette answers HEAD wherever GET is served
        }
    finally:
        store.close()


def test_every_served_route_is_documented_and_nothing_else(
    served_routes: set[tuple[str, str]],
) -> None:
    socket_only = {route_key(op.method, op.route) for op in OPERATIONS if op.socket_only}
    documented = {
        (method.upper(), path)
        for path, operations in openapi_document()["paths"].items()
        for method in operations
    } - socket_only  # served on the Unix socket alone: tests/unit/test_vault_api.py
    assert served_routes - documented == set(), "add the route to OPERATIONS in daemon/openapi.py"
    assert documented - served_routes == set(), "OPERATIONS names a route the app does not serve"


def test_the_published_document_is_current() -> None:
    """``docs/openapi.json`` is regenerated with ``python -m stockade.daemon.openapi``."""
    assert json.loads(PUBLISHED.read_text()) == openapi_document()


def test_every_operation_is_unique_and_answers_a_defined_schema() -> None:
    document = openapi_document()
    schemas = document["components"]["schemas"]
    keys = [route_key(op.method, op.route) for op in OPERATIONS]
    assert len(keys) == len(set(keys))
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert all(op.answer in schemas for op in OPERATIONS)
    refs = set(_refs(document))
    assert refs <= {f"#/components/schemas/{name}" for name in schemas} | {
        "#/components/parameters/ApiVersion"
    }


def test_body_and_query_schemas_are_those_that_validate_requests() -> None:
    """The document's request schemas say what the edge refuses (enums, patterns, bounds)."""
    document = openapi_document()
    decide = document["components"]["schemas"]["DecideBody"]
    assert decide["additionalProperties"] is False
    assert "claude-code" in decide["properties"]["harness"]["enum"]
    assert decide["properties"]["cwd"]["pattern"].startswith("^/")
    events = document["paths"]["/api/v1/audit/events"]["get"]["parameters"]
    after = next(p for p in events if p.get("name") == "after")
    assert after["schema"]["maximum"] == 2**63 - 1
    purge = document["paths"]["/api/v1/audit/purge"]["post"]["requestBody"]
    verify = document["paths"]["/api/v1/audit/verify"]["post"]["requestBody"]
    assert purge["required"] is True and verify["required"] is False


@pytest.mark.parametrize(
    ("model", "example"),
    [pytest.param(model, example, id=model.__name__) for model, example in EXAMPLES.items()],
)
def test_every_example_is_a_valid_request(model: type[BaseModel], example: Any) -> None:
    model.model_validate_json(json.dumps(example))


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)
