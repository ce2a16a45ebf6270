"""Schemathesis fuzzes every operation of the OpenAPI schema over real HTTP: no 500, ever.

Responses must also match the schema (status codes, content types, bodies), and requests the
schema forbids must be refused.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("fastapi", reason="the service needs the 'serve' extra")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from service_live import live_service  # noqa: E402

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


TOKEN = "fuzz-token"


@pytest.fixture(scope="module")
def api_schema(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[object, str | None]]:
    """The schema of a live server, with the token it requires (``request.param``)."""
    db = tmp_path_factory.mktemp("fuzz") / "jobs.sqlite3"
    with live_service(db, "service_fakes:instant_job", max_queued=10, token=request.param) as svc:
        yield schemathesis.openapi.from_url(svc.url + "/openapi.json"), request.param


def _operations(schema: object) -> list[object]:
    return [result.ok() for result in schema.get_all_operations()]  # type: ignore[attr-defined]


# The schemathesis pytest plugin does not run on this pytest, so the fuzzing loop is explicit:
# every operation, with data the schema allows and data it forbids. A token-protected server
# is fuzzed with valid data only, every request carrying the token (to get past the 401): negative
# data there would include a missing token, which the fixed header would contradict.
@pytest.mark.parametrize(
    ("api_schema", "mode"),
    [(None, "positive"), (None, "negative"), (TOKEN, "positive")],
    ids=["open-positive", "open-negative", "token-positive"],
    indirect=["api_schema"],
)
def test_api_conforms_to_its_schema(api_schema: tuple[object, str | None], mode: str) -> None:
    schema, token = api_schema
    headers = {"Authorization": f"Bearer {token}"} if token is not None else None
    operations = _operations(schema)
    assert len(operations) >= 7
    for operation in operations:
        raw = operation.definition.raw  # type: ignore[attr-defined]
        if mode == "negative" and not (raw.get("parameters") or raw.get("requestBody")):
            continue  # nothing a client sends can be invalid
        strategy = operation.as_strategy(schemathesis.GenerationMode(mode))

        @given(case=strategy)
        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS, timeout=10, headers=headers)

        fuzz()
