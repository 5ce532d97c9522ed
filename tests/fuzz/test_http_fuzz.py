"""The HTTP layer fuzzed below GraphQL: bodies, query strings, headers, webhook bodies.

Whatever the bytes, the answer is a served one: a status below 500 and JSON in
the route's shape (GraphQL errors all coded, never INTERNAL_SERVER_ERROR).
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.payments.sandbox import sign
from tests.fuzz.conftest import EXAMPLES, KEYS, World, assert_healthy, assert_served

FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="JIMU_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=list(HealthCheck), database=None)

SCALARS = st.one_of(
    st.none(), st.booleans(), st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False, allow_infinity=False),
)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=20)
DOCUMENTS = st.sampled_from([
    "{ shop { handle } }", "query($v: Int) { shop { handle } }", "query Q($r: String!) { products(first: 2) { nodes { skus { availability(region: $r) { status } } } } }",
    'mutation { shopperLogin(code: "dev:x") { token } }', "{ products(first: 2, after: $after) { nodes { handle } } }",
    "query($after: String) { products(first: 2, after: $after) { nodes { handle } } }", "", "{", "subscription { x }",
])


def nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """GraphQL-shaped JSON, other JSON, deep or huge JSON, or plain bytes."""
    kind = draw(st.sampled_from(["request", "value", "deep", "bignum", "bytes", "text"]))
    if kind == "request":
        request: dict[str, Any] = {"query": draw(DOCUMENTS)}
        for member in draw(st.sets(st.sampled_from(["variables", "operationName", "extensions", "other"]))):
            request[member] = draw(JSON_VALUES)
        return json.dumps(request).encode()
    if kind == "value":
        return json.dumps(draw(JSON_VALUES)).encode()
    if kind == "deep":
        where = draw(st.sampled_from(["variables", "extensions", "operationName"]))
        return ('{"query": "{ shop { handle } }", "%s": %s}' % (where, nested(draw(st.integers(60, 3000))))).encode()
    if kind == "bignum":
        digits = draw(st.integers(15, 6000))
        return ('{"query": "query($v: Long) { shop { handle } }", "variables": {"v": %s}}' % ("9" * digits)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")


HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
HEADERS = st.fixed_dictionaries({}, optional={
    "X-Jimu-Key": st.sampled_from(KEYS) | HEADER_TEXT,
    "Authorization": HEADER_TEXT | st.just("Bearer ") | HEADER_TEXT.map(lambda t: f"Bearer {t}"),
    "X-Jimu-Scene": HEADER_TEXT,
    "X-Jimu-Channel": HEADER_TEXT,
    "content-type": st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain",
                                     "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]),
    "If-None-Match": HEADER_TEXT,
})


def _graphql_served(answer: Any, what: object) -> None:
    if answer.status == 415 or answer.status == 405:
        assert answer.body is not None and answer.body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", what
        return
    assert_served(answer, what)


@FUZZ
@given(body=bodies(), headers=HEADERS)
def test_any_post_body_is_served(world: World, body: bytes, headers: dict[str, str]) -> None:
    answer = world.send("POST", "/graphql", content=body, headers=headers)
    _graphql_served(answer, (body[:300], headers))


@FUZZ
@given(
    params=st.dictionaries(st.sampled_from(["query", "variables", "operationName", "extensions", "x"]),
                           DOCUMENTS | st.text(max_size=60) | st.builds(nested, st.integers(1, 2000)), max_size=4),
    headers=HEADERS,
)
def test_any_get_query_string_is_served(world: World, params: dict[str, str], headers: dict[str, str]) -> None:
    answer = world.send("GET", "/graphql", params=params, headers={**headers, "accept": "application/json"})
    if answer.status == 200 and answer.body is None:
        return  # the playground's page, for a GET without a query
    _graphql_served(answer, (params, headers))


NOTICES = st.fixed_dictionaries(
    {},
    optional={
        "paymentId": st.integers() | st.text(max_size=20) | st.sampled_from(["1", "gid://jimu/Payment/1"]),
        "status": st.sampled_from(["SUCCEEDED", "FAILED", "x"]) | st.none(),
        "amount": st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=5),
        "extra": JSON_VALUES,
    },
)


@FUZZ
@given(
    body=st.one_of(NOTICES.map(lambda n: json.dumps(n).encode()), bodies()),
    signature=st.sampled_from(["right", "wrong", "none"]),
)
def test_any_sandbox_notification_is_answered_in_its_shape(world: World, body: bytes, signature: str) -> None:
    headers = {"content-type": "application/json"}
    if signature == "right":
        headers["X-Jimu-Signature"] = sign("sandbox-secret", body)
    elif signature == "wrong":
        headers["X-Jimu-Signature"] = "0" * 64
    answer = world.send("POST", "/webhooks/payments/sandbox", content=body, headers=headers)
    assert answer.status < 500, (answer.status, answer.text, body[:300])
    assert isinstance(answer.body, dict) and answer.body.get("status") in ("ok", "refused"), (answer.text, body[:300])


def test_the_server_is_healthy_after_the_fuzz(world: World) -> None:
    assert_healthy(world)
