"""Property-based run of schemathesis against the app's own OpenAPI schema.

Every operation gets a fixed number of generated requests (valid and invalid
parameters and bodies, with a valid bearer token so that writes get past
authentication); none may answer with a server error, and every answer must
match the schema (status code, content type, body). Bounded: a fixed
``max_examples`` per operation, no deadline, a fixed seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from api.app import create_app
from dophu.context import Context
from store import open_store
from tests.api.api_fixture import DAI_HOI, TOKEN_AN, TOKENS_ENV, fill, write_config

MAX_EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
OPERATIONS = [
    ("GET", "/api/items"), ("GET", "/api/items/{item_id}"),
    ("POST", "/api/items/{item_id}/feedback"), ("GET", "/api/review"), ("GET", "/api/coverage"),
    ("GET", "/api/reports/weekly"), ("GET", "/api/reports/range"), ("GET", "/api/sources"),
    ("POST", "/api/sources/{source_id}/crawl"), ("GET", "/api/plan"), ("GET", "/healthz"),
    ("GET", "/metrics"),
]
AUTH = {"Authorization": f"Bearer {TOKEN_AN}"}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenApiSchema]:
    root: Path = tmp_path_factory.mktemp("schemathesis")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOPHU_API_TOKENS", TOKENS_ENV)
        patch.delenv("ELASTICSEARCH_URL", raising=False)
        store = open_store(root / "data")
        fill(store)
        store.close()
        context = Context(config_dir=write_config(root / "config"), data_dir=root / "data")
        yield schemathesis.openapi.from_asgi("/openapi.json", create_app(context))
        context.close()


def test_every_operation_is_exercised(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {(op.method.upper(), op.path) for op in operations} == set(OPERATIONS)
    without_input = {(op.method.upper(), op.path) for op in operations
                     if not op.path_parameters and not op.query and not op.headers
                     and not op.body}
    assert without_input == NO_INPUT


# Operations without any parameter or body have nothing to make invalid.
NO_INPUT = {("GET", "/healthz"), ("GET", "/api/sources"), ("GET", "/api/plan"),
            ("GET", "/metrics")}
RUNS = [pytest.param(method, path, mode, id=f"{method} {path} {label}")
        for method, path in OPERATIONS
        for mode, label in ((GenerationMode.POSITIVE, "valid"),
                            (GenerationMode.NEGATIVE, "invalid"))
        if not (mode is GenerationMode.NEGATIVE and (method, path) in NO_INPUT)]
# Paths with an id also run with an id that exists, so that generation reaches past the 404.
KNOWN_IDS = [("GET", "/api/items/{item_id}", {"item_id": DAI_HOI.id}),
             ("POST", "/api/items/{item_id}/feedback", {"item_id": DAI_HOI.id}),
             ("POST", "/api/sources/{source_id}/crawl", {"source_id": "baocantho"})]


# (The pytest integration's lazy loader does not run under pytest 9, so each operation is
# driven through its Hypothesis strategy instead; the checks are the same.)
@pytest.mark.parametrize("method, path, mode", RUNS)
def test_no_server_error_and_answers_match_the_schema(api_schema, method, path, mode):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=AUTH, checks=CHECKS)

    run()


@pytest.mark.parametrize("method, path, ids", KNOWN_IDS, ids=[f"{m} {p}" for m, p, _ in KNOWN_IDS])
def test_known_ids_give_no_server_error(api_schema, method, path, ids):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(path_parameters=ids))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=AUTH, checks=CHECKS)

    run()
