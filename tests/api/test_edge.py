"""The edge (gateway.edge): every body, query string and header that GraphQL or a webhook
cannot use is a 4xx in the route's own shape, before anything recurses into it."""

from __future__ import annotations

import json

import httpx
import pytest

from adapters.payments.sandbox import sign
from gateway.edge import (
    MAX_DEPTH,
    MAX_DOCUMENT,
    MAX_HEADER,
    MAX_STRING,
    Refused,
    check_query_string,
    problem,
)

KEY = {"X-Jimu-Key": "pk_demo_panda"}
JSON = {**KEY, "content-type": "application/json"}
QUERY = "{ shop { handle } }"  # variables it does not declare are read, checked and ignored


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def bad_request(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    return str(error["message"])


@pytest.mark.parametrize("body", [b"null", b"5", b"true", b'"text"', b"[]", b"-0", b"1e5"])
async def test_a_body_that_is_not_a_json_object_is_a_bad_request(client: httpx.AsyncClient, body: bytes):
    assert "JSON object" in bad_request(await client.post("/graphql", content=body, headers=JSON))


@pytest.mark.parametrize(
    "body",
    [
        '{"query": "%s", "variables": {"v": %s}}' % (QUERY, nested(5000)),
        '{"query": "%s", "variables": {"v": %s}}' % (QUERY, nested(MAX_DEPTH)),  # 1 + 1 + 64 levels
        '{"query": "%s", "extensions": {"e": %s}}' % (QUERY, nested(200)),
        '{"query": "%s", "variables": {"v": %s}}' % (QUERY, '{"a":' * 100 + "1" + "}" * 100),
    ],
)
async def test_nesting_deeper_than_the_bound_is_a_bad_request(client: httpx.AsyncClient, body: str):
    assert "nested" in bad_request(await client.post("/graphql", content=body.encode(), headers=JSON))


async def test_nesting_within_the_bound_goes_through(client: httpx.AsyncClient):
    body = '{"query": "%s", "variables": {"v": %s}}' % (QUERY, nested(MAX_DEPTH - 2))
    response = await client.post("/graphql", content=body.encode(), headers=JSON)
    assert response.status_code == 200 and response.json()["data"]["shop"]["handle"] == "panda-care"


async def test_nesting_in_the_get_variables_is_a_bad_request(client: httpx.AsyncClient):
    response = await client.get("/graphql", params={"query": QUERY, "variables": '{"v": %s}' % nested(3000)}, headers=KEY)
    assert "nested" in bad_request(response)


@pytest.mark.parametrize(
    "number", ["1" * 5000, str(2**63), str(-(2**63) - 1), "18446744073709551616", "1e300", "-1.5e19"]
)
async def test_numbers_beyond_64_bits_are_a_bad_request(client: httpx.AsyncClient, number: str):
    body = '{"query": "query($n: Long) { shop { handle } }", "variables": {"n": %s}}' % number
    assert "64 bits" in bad_request(await client.post("/graphql", content=body.encode(), headers=JSON))


async def test_numbers_at_the_64_bit_bounds_reach_graphql(client: httpx.AsyncClient):
    for number in (2**63 - 1, -(2**63)):
        body = {"query": "query($n: Long) { shop { handle } }", "variables": {"n": number}}
        response = await client.post("/graphql", content=json.dumps(body).encode(), headers=JSON)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body",
    [
        {"query": QUERY, "variables": {"v": "x" * (MAX_STRING + 1)}},
        {"query": QUERY, "variables": {"x" * (MAX_STRING + 1): 1}},
        {"query": QUERY, "operationName": "x" * (MAX_STRING + 1)},
        {"query": "{ shop { handle } }" + " " * MAX_DOCUMENT},
    ],
)
async def test_strings_beyond_the_bound_are_a_bad_request(client: httpx.AsyncClient, body: dict):
    assert "longer than" in bad_request(await client.post("/graphql", content=json.dumps(body).encode(), headers=JSON))


@pytest.mark.parametrize("body", [b"NaN", b'{"query": NaN}', b'{"query": Infinity}', b"{\"query\": \"\\ud800\"", b"\xff\xfe{}"])
async def test_what_only_a_lenient_parser_reads_is_a_bad_request(client: httpx.AsyncClient, body: bytes):
    bad_request(await client.post("/graphql", content=body, headers=JSON))


async def test_a_header_beyond_the_bound_is_a_bad_request(client: httpx.AsyncClient):
    response = await client.post("/graphql", json={"query": "{ shop { handle } }"},
                                 headers={**KEY, "X-Jimu-Scene": "s" * (MAX_HEADER + 1)})
    assert "header" in bad_request(response)


def test_a_get_document_beyond_the_bound_is_refused():
    # (httpx will not even send a URL this long: the check is the edge's own)
    with pytest.raises(Refused, match="longer than"):
        check_query_string(b"query=" + b"%20" * (MAX_DOCUMENT + 1))
    with pytest.raises(Refused, match="nested"):
        check_query_string(b"query=q&variables=" + b"%5B" * 100 + b"%5D" * 100)
    check_query_string(b"query=%7Bshop%7Bhandle%7D%7D&variables=%7B%7D&operationName=")


async def test_a_deep_signed_sandbox_notification_is_refused_in_the_webhook_shape(client: httpx.AsyncClient):
    body = ('{"paymentId": "x", "status": "SUCCEEDED", "amount": 1, "extra": %s}' % nested(5000)).encode()
    response = await client.post("/webhooks/payments/sandbox", content=body,
                                 headers={"X-Jimu-Signature": sign("sandbox-secret", body), "content-type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"status": "refused", "message": "the request body is nested too deeply"}


@pytest.mark.parametrize("body", [b"", b"null", b"[1]", b"{bad"])
async def test_a_webhook_body_that_is_not_json_is_refused(client: httpx.AsyncClient, body: bytes):
    response = await client.post("/webhooks/payments/sandbox", content=body,
                                 headers={"X-Jimu-Signature": sign("sandbox-secret", body)})
    assert response.status_code in (400, 401), response.text  # not JSON: 400; JSON but not a notice: the verifier's
    assert response.json()["status"] == "refused"


@pytest.mark.parametrize(
    "body",
    [{"query": 5}, {"query": ["{ shop { handle } }"]}, {"query": "{ shop { handle } }", "operationName": ["a"]},
     {"query": "{ shop { handle } }", "variables": [1]}, {"query": "{ shop { handle } }", "extensions": "x"}],
)
async def test_members_of_the_wrong_type_are_a_bad_request(client: httpx.AsyncClient, body: dict):
    assert "must be" in bad_request(await client.post("/graphql", content=json.dumps(body).encode(), headers=JSON))


async def test_nul_in_a_string_is_refused_in_variables_and_in_literals(client: httpx.AsyncClient):
    # PostgreSQL can neither store U+0000 nor compare with it: it never reaches a statement
    variables = {"query": "query($c: String!) { campaign(code: $c) { rules } }", "variables": {"c": "a\u0000"}}
    assert "U+0000" in bad_request(await client.post("/graphql", content=json.dumps(variables).encode(), headers=JSON))
    literal = {"query": '{ campaign(code: "a\\u0000") { rules } }'}
    response = await client.post("/graphql", content=json.dumps(literal).encode(), headers=JSON)
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert "U+0000" in error["message"] and error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_the_check_walks_without_recursing():
    deep: list = []
    for _ in range(100_000):  # far past Python's recursion limit
        deep = [deep]
    assert problem(deep) == f"the JSON is nested deeper than {MAX_DEPTH} levels"
    assert problem({"query": "q" * MAX_DOCUMENT}, long_document=True) is None
    assert problem({"query": "q" * MAX_DOCUMENT}) is not None
    assert problem({"a": [1, 2.5, "s", None, True, {"b": -(2**63)}]}) is None


@pytest.mark.parametrize(
    ("header", "value", "named"),
    [
        ("X-Jimu-Scene", "abc", "X-Jimu-Scene must be a WeChat scene value from 1 to 99999"),
        ("X-Jimu-Scene", "0", "X-Jimu-Scene must be a WeChat scene value from 1 to 99999"),
        ("X-Jimu-Scene", "100000", "X-Jimu-Scene must be a WeChat scene value from 1 to 99999"),
        ("X-Jimu-Channel", "moments-ad", "X-Jimu-Channel must be 1 to 80 of A-Z, a-z, 0-9 and _"),
        ("X-Jimu-Channel", "c" * 81, "X-Jimu-Channel must be 1 to 80 of A-Z, a-z, 0-9 and _"),
    ],
)
async def test_a_malformed_attribution_header_is_refused_on_every_request(
    client: httpx.AsyncClient, header: str, value: str, named: str
):
    # a read, a cart and a GET: each is refused before it runs, naming the header and its format
    cart = 'mutation { cartCreate(lines: [{skuCode: "WIPES-80X6", quantity: 1}]) { cart { id } } }'
    for sent in (
        client.post("/graphql", json={"query": QUERY}, headers={**KEY, header: value}),
        client.post("/graphql", json={"query": cart}, headers={**KEY, header: value}),
        client.get("/graphql", params={"query": QUERY}, headers={**KEY, header: value}),
    ):
        response = await sent
        assert response.status_code == 400, response.text
        [error] = response.json()["errors"]
        assert (error["extensions"]["code"], error["message"]) == ("BAD_USER_INPUT", named)


async def test_well_formed_or_absent_attribution_headers_go_through(client: httpx.AsyncClient):
    for headers in ({}, {"X-Jimu-Scene": "1089", "X-Jimu-Channel": "moments_ad_7"}, {"X-Jimu-Scene": " "}):
        response = await client.post("/graphql", json={"query": QUERY}, headers={**KEY, **headers})
        assert response.status_code == 200 and response.json()["data"]["shop"]["handle"] == "panda-care"


@pytest.mark.parametrize("header", ["X-Jimu-Scene", "X-Jimu-Channel"])
async def test_an_attribution_header_sent_twice_is_refused(client: httpx.AsyncClient, header: str):
    # which of the two would an order record? neither: the client is told
    sent = [("X-Jimu-Key", "pk_demo_panda"), (header, "1001"), (header, "1089")]
    response = await client.post("/graphql", json={"query": QUERY}, headers=sent)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["extensions"]["code"], error["message"]) == ("BAD_USER_INPUT", f"send the {header} header once")
