"""Malformed and abusive requests get a 4xx or a coded GraphQL error, never a 500."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from gateway.errors import MASKED_MESSAGE
from gateway.graphql import MAX_ALIASES, MAX_DEPTH
from gateway.settings import Settings
from gateway.wiring import Adapters
from tests.conftest import api_client, codes, make_gql

KEY = {"X-Jimu-Key": "pk_demo_panda"}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "query=%7Bshop%7Bname%7D%7D"),
        ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{shop{name}}\r\n--x--'),
        ("text/plain", '{"query": "{ shop { name } }"}'),
    ],
)
async def test_posts_a_browser_form_could_send_are_refused(client: httpx.AsyncClient, content_type, body):
    response = await client.post("/graphql", content=body, headers={**KEY, "content-type": content_type})
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_queries_work_over_get_but_mutations_do_not(client: httpx.AsyncClient):
    query = await client.get("/graphql", params={"query": "{ shop { handle } }"}, headers=KEY)
    mutation = await client.get(
        "/graphql", params={"query": 'mutation { shopperLogin(code: "dev:a") { token } }'}, headers=KEY
    )
    assert query.json()["data"]["shop"]["handle"] == "panda-care"
    assert mutation.status_code == 400 and "mutations" in mutation.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b'[{"query": "{ shop { name } }"}]', 400),
        (b'{"query": 5}', 400),
        (b'{"query": "{ shop { name } }", "variables": [1]}', 400),
        (b"", 400),
        (b"{}", 400),
        ("{\"query\": \"\xff\"}".encode("latin-1"), 400),
    ],
)
async def test_malformed_bodies_are_refused_as_bad_requests(client: httpx.AsyncClient, body: bytes, status: int):
    response = await client.post("/graphql", content=body, headers={**KEY, "content-type": "application/json"})
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_body_over_the_limit_is_refused_before_it_is_parsed(settings: Settings, demo: Adapters):
    small = replace(settings, max_body_bytes=1000)
    async with api_client(small, demo) as client:
        padded = {"query": "{ shop { name } }", "variables": {"pad": "x" * 2000}}
        response = await client.post("/graphql", json=padded, headers=KEY)

        async def stream():  # no Content-Length: the limit is counted as the body arrives
            for _ in range(5):
                yield b" " * 500

        streamed = await client.post(
            "/graphql", content=stream(), headers={**KEY, "content-type": "application/json"}
        )
    assert response.status_code == 413 and streamed.status_code == 413


async def test_queries_deeper_than_the_limit_are_refused(client: httpx.AsyncClient):
    nested = "parent { " * MAX_DEPTH + "handle" + " }" * MAX_DEPTH
    gql = make_gql(client)
    assert codes(await gql(f"{{ categories {{ {nested} }} }}")) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "data" in await gql("{ categories { parent { parent { handle } } } }")


async def test_too_many_aliases_or_tokens_are_refused(client: httpx.AsyncClient):
    gql = make_gql(client)
    aliases = " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES + 1))
    tokens = "{ " + " ".join(["__typename"] * 6000) + " }"
    assert codes(await gql(f"{{ {aliases} }}")) == ["GRAPHQL_VALIDATION_FAILED"]
    assert codes(await gql(tokens))[0] in ("GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED")


async def test_documents_and_variables_that_do_not_fit_get_codes(client: httpx.AsyncClient):
    gql = make_gql(client)
    assert codes(await gql("{ shop { name ")) == ["GRAPHQL_PARSE_FAILED"]
    assert codes(await gql("{ shop { nosuchfield } }")) == ["GRAPHQL_VALIDATION_FAILED"]
    assert codes(await gql("query($x: Int) { shop { name } }")) == ["GRAPHQL_VALIDATION_FAILED"]
    price = "query($p: Decimal) { products(filter: { minPrice: $p }) { totalCount } }"
    for bad in ("1.005", "abc", True, "1e30", "NaN"):  # money is yuan with at most 2 places
        assert codes(await gql(price, {"p": bad})) == ["BAD_USER_INPUT"], bad
    assert codes(await gql(price, {"p": "118000.00"})) == []
    assert codes(await gql("{ products(filter: { minPrice: true }) { totalCount } }")) == ["GRAPHQL_VALIDATION_FAILED"]
    assert codes(await gql("query($first: Int!) { products(first: $first) { totalCount } }")) == ["BAD_USER_INPUT"]


class BrokenGoods:
    """A goods catalog whose search fails the way a bug would."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    async def search_products(self, *args, **kwargs):
        raise RuntimeError("secret detail: connection string postgres://admin:hunter2@db")


@pytest.mark.parametrize(("env", "masked"), [("production", True), ("development", False)])
async def test_unexpected_errors_are_coded_and_masked_in_production(
    settings: Settings, demo: Adapters, env: str, masked: bool
):
    # given
    configured = replace(settings, env=env, secret="x" * 40)
    broken = replace(demo, goods=BrokenGoods(demo.goods))
    async with api_client(configured, broken) as client:
        # when
        body = await make_gql(client)("{ shop { handle } products { totalCount } }")
    # then the rest of the answer survives, the error is coded, and its detail is hidden in production
    assert body["data"] is None or body["data"].get("shop") is not None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["path"] == ["products"]
    assert (error["message"] == MASKED_MESSAGE) is masked
    assert ("hunter2" in error["message"]) is not masked


async def test_other_methods_are_refused(client: httpx.AsyncClient):
    response = await client.put("/graphql", headers=KEY)
    assert response.status_code == 405


def test_the_limit_rules_are_the_same_classes_on_every_request():
    # ValidationCache keys on the rule classes: new classes per request would never hit.
    from strawberry.extensions import AddValidationRules

    from gateway.graphql import build_schema

    def limit_rules():
        made = [factory() for factory in build_schema().extensions]
        return [rule for ext in made if isinstance(ext, AddValidationRules) for rule in ext.validation_rules]

    first, second = limit_rules(), limit_rules()
    assert len(first) == 3 and first == second  # depth, aliases, no U+0000 in strings
