"""Every request's record: its id in and out, and what its log line says of it."""

from __future__ import annotations

import logging

import httpx
import pytest

from gateway.logs import FIELDS
from tests.conftest import make_gql

LOGIN = 'mutation { shopperLogin(code: "dev:mum") { token } }'
SHOP = "query ShopName { shop { name } }"


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture):
    """The request records logged so far, as their fields."""
    caplog.set_level(logging.INFO, logger="jimu.request")
    return lambda: [getattr(r, FIELDS) for r in caplog.records if r.name == "jimu.request"]


async def test_a_request_id_is_made_or_taken_and_always_echoed(client: httpx.AsyncClient, lines):
    # given a request without an id, one with a plain id and one with an id that is not a plain token
    made = await client.get("/healthz")
    taken = await client.get("/healthz", headers={"X-Request-Id": "lb-7f3a:9"})
    replaced = await client.get("/healthz", headers={"X-Request-Id": "a b" + "x" * 200})
    # then each answer carries the id its log line has
    assert len(made.headers["x-request-id"]) == 32
    assert taken.headers["x-request-id"] == "lb-7f3a:9"
    assert replaced.headers["x-request-id"] not in ("", "a b")
    assert [line["request_id"] for line in lines()] == [r.headers["x-request-id"] for r in (made, taken, replaced)]


async def test_the_line_names_operation_shop_shopper_cost_and_statements(client: httpx.AsyncClient, lines):
    gql = make_gql(client)
    # given a signed-in shopper
    token = (await gql(LOGIN))["data"]["shopperLogin"]["token"]
    # when she asks for her orders by a named operation
    await gql("query MyOrders { me { orders(first: 2) { nodes { number } } } }", token=token)
    login, orders = lines()
    # then the lines say what each was
    assert (login.get("operation"), login["kind"], login["shop"], login["status"]) == (None, "mutation", "panda-care", 200)
    assert "shopper_id" not in login  # signing in is done without a token
    assert (orders["operation"], orders["kind"], orders["shop"]) == ("MyOrders", "query", "panda-care")
    assert isinstance(orders["shopper_id"], int) and orders["sql_statements"] >= 1
    assert orders["cost"]["requested"] >= orders["cost"]["actual"] >= 1
    assert orders["duration_ms"] > 0 and "error_codes" not in orders


async def test_error_codes_and_refusals_are_in_the_line(client: httpx.AsyncClient, lines):
    gql = make_gql(client)
    # given a query with an unknown field, a bad token and a body that is not JSON
    await gql("{ shop { nme } }")
    await gql("query Mine { me { id } }", token="not-a-token")
    await client.post("/graphql", content=b"{", headers={"content-type": "application/json", "X-Jimu-Key": "pk_demo_panda"})
    # then each line has its codes
    unknown, bad_token, not_json = lines()
    assert unknown["error_codes"] == ["GRAPHQL_VALIDATION_FAILED"]
    assert bad_token["error_codes"] == ["UNAUTHENTICATED"] and bad_token["operation"] == "Mine"
    assert not_json["error_codes"] == ["BAD_REQUEST"] and not_json["status"] == 400


async def test_the_response_cache_says_hit_or_miss(settings, demo, lines):
    from dataclasses import replace

    from tests.conftest import api_client

    # given the response cache on
    async with api_client(replace(settings, response_cache_seconds=60), demo) as client:
        gql = make_gql(client)
        # when the same storefront query is asked twice
        await gql(SHOP)
        await gql(SHOP)
    # then the first computed it and the second was answered from the cache
    assert [(line["cache"], line["operation"], line["kind"]) for line in lines()] == [
        ("miss", "ShopName", "query"), ("hit", "ShopName", "query")]


async def test_every_graphql_answer_says_development_outside_production(client: httpx.AsyncClient):
    gql = make_gql(client)
    # given development settings (the suite's), answers of every kind
    answered = await gql(SHOP)
    failed = await gql("{ shop { nme } }")
    refused = await client.post("/graphql", content=b"[]", headers={"content-type": "application/json"})
    # then each says the mode in its extensions
    assert answered["extensions"]["mode"] == failed["extensions"]["mode"] == "development"
    assert refused.json()["extensions"] == {"mode": "development"}


def test_a_text_line_cannot_be_forged_by_what_a_client_sends():
    # given a record whose path and operation a client chose
    from gateway.logs import TextFormatter
    from gateway.observe import Observed, _operation

    observed = Observed("r1", "GET", "/graphql\nINFO jimu.request: forged")
    _operation(observed, {"operationName": "Shop\nINFO forged", "query": "query Real { shop { name } }"}, None)
    record = logging.LogRecord("jimu.request", logging.INFO, "", 0, "line", (), None)
    setattr(record, FIELDS, observed.fields())
    # when it is written as text, then it is one line, its path quoted, the bad name not taken
    text = TextFormatter().format(record)
    assert "\n" not in text and 'path="/graphql\\nINFO jimu.request: forged"' in text
    assert observed.operation == "Real"  # the document's own name, not the free text
