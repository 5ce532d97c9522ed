"""The level-by-level executor answers exactly what strawberry's does, byte for byte.

Hypothesis writes documents over the storefront's goods types (random fields,
aliases, ``__typename``, inline and named fragments, ``@include``/``@skip``
with variables, arguments with literals and variables, nested SKU -> product
-> SKU cycles) and each one runs through both executors on the demo shops.
Where the generic answer has any error, the plan must decline (and leave the
answer to the generic path); everywhere else the two must serialize to the
same bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    parse,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from adapters.db import Database
from gateway.auth import KeyDirectory, ShopperTokens
from gateway.context import Context
from gateway.fastpath import Plan
from gateway.graphql import build_schema
from gateway.reference import ReferenceCache
from gateway.settings import Settings
from gateway.wiring import cashier_for, sql_adapters
from tests.conftest import _empty, api_client, load_demo

SCHEMA = build_schema()
GQL = SCHEMA._schema
MAX_DEPTH = 4

# Values for the arguments a generated field may take (GraphQL literals); None leaves it out.
ARGUMENTS: dict[tuple[str, str], dict[str, list[str | None]]] = {
    ("Sku", "availability"): {"region": [None, '"1"', '"1_72_2799_0"', '"19_1601"', '"26"', "$region"]},
    ("Sku", "deliveryOptions"): {"region": ['"1"', '"1_72_2799_0"', '"19_1601"', "$region"],
                                 "quantity": [None, "1", "2", "3"]},
}
SKIPPED = {("Product", "description")}  # long texts only slow the shrinker down


@dataclass
class World:
    runner: asyncio.Runner
    context: Any = field(default=None)


@pytest.fixture(scope="module")
def world(database_url: str) -> Iterator[World]:
    runner = asyncio.Runner()
    test_settings = Settings(database_url=database_url, response_cache_seconds=0, reference_cache_seconds=0)
    db = Database(database_url)

    async def start() -> Any:
        await _empty(db)
        adapters = sql_adapters(test_settings, db)
        await load_demo(adapters)
        keys, tokens = KeyDirectory(adapters.shops), ShopperTokens(test_settings.secret, 3600)
        cashier = cashier_for(adapters, test_settings)

        async def invalidate(_: int) -> None:
            return None

        # Held for the whole module, as a worker holds it: the plan's reuse of what it made
        # of the same objects is exercised by running each plan twice.
        reference = ReferenceCache(3600)

        def context(key: str) -> Context:
            scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": [(b"x-jimu-key", key.encode())]}
            return Context(Request(scope), test_settings, adapters, keys, tokens, cashier, reference, invalidate)

        return context

    made = World(runner)
    made.context = runner.run(start())
    yield made
    runner.run(db.dispose())
    runner.close()


def _named(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


@st.composite
def selection(draw: st.DrawFn, type_: GraphQLObjectType, depth: int, fragments: dict[str, str]) -> str:
    """A selection set over ``type_``: fields with aliases and arguments, fragments, directives."""
    names = [n for n in type_.fields if (type_.name, n) not in SKIPPED]
    picked = draw(st.lists(st.sampled_from(names), min_size=1, max_size=min(6, len(names)), unique=True))
    parts = []
    for n, name in enumerate(picked):
        fdef = type_.fields[name]
        target = _named(fdef.type)
        if isinstance(target, GraphQLObjectType) and depth >= MAX_DEPTH:
            continue
        if not isinstance(target, GraphQLObjectType | GraphQLScalarType | GraphQLEnumType):
            continue
        args = []
        options = ARGUMENTS.get((type_.name, name), {})
        if any(isinstance(a.type, GraphQLNonNull) and a_name not in options for a_name, a in fdef.args.items()):
            continue
        for a_name, values in options.items():
            value = draw(st.sampled_from(values))
            if value is not None:
                args.append(f"{a_name}: {value}")
        text = name + (f"({', '.join(args)})" if args else "")
        if draw(st.booleans()):
            text = f"a{n}_{name}: {text}"
        directive = draw(st.sampled_from(["", "", "", " @include(if: $on)", " @skip(if: $on)", " @skip(if: false)"]))
        text += directive
        if isinstance(target, GraphQLObjectType):
            text += " { " + draw(selection(target, depth + 1, fragments)) + " }"
        parts.append(text)
    if draw(st.booleans()):
        parts.append("__typename")
    wrap = draw(st.sampled_from(["plain", "plain", "inline", "named"]))
    body = " ".join(parts) or "__typename"
    if wrap == "inline":
        return f"... on {type_.name} {{ {body} }}"
    if wrap == "named":
        name = f"F{len(fragments)}"
        fragments[name] = f"fragment {name} on {type_.name} {{ {body} }}"
        return f"...{name} id" if "id" in type_.fields else f"...{name}"
    return body


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, dict[str, Any], str]:
    fragments: dict[str, str] = {}
    root = draw(st.sampled_from(["products", "product", "sku"]))
    if root == "products":
        first = draw(st.integers(1, 8))
        sort = draw(st.sampled_from(["RELEVANCE", "PRICE", "TITLE", "CREATED_AT"]))
        connection = GQL.get_type("ProductConnection")
        head = f"products(first: {first}, sortKey: {sort}, reverse: {draw(st.booleans()).__str__().lower()})"
        body = draw(selection(connection, 1, fragments))  # type: ignore[arg-type]
    elif root == "product":
        handle = draw(st.sampled_from(["diaper-soft", "nonexistent", "regatta-41", "wipes-80"]))
        head = f'product(handle: "{handle}")'
        body = draw(selection(GQL.get_type("Product"), 1, fragments))  # type: ignore[arg-type]
    else:
        code = draw(st.sampled_from(["DIAPER-L54", "WIPES-80X6", "NOPE"]))
        head = f'sku(code: "{code}")'
        body = draw(selection(GQL.get_type("Sku"), 1, fragments))  # type: ignore[arg-type]
    text = f"{{ {head} {{ {body} }} }} " + " ".join(fragments.values())
    declared = {"region": "String!", "on": "Boolean!"}
    used = [name for name in declared if f"${name}" in text]  # an unused variable is a validation error
    definitions = f"({', '.join(f'${n}: {declared[n]}' for n in used)})" if used else ""
    query = f"query Q{definitions} {text}"
    variables = {"region": draw(st.sampled_from(["1", "19_1601", "1_72_2799_0", "31"])), "on": draw(st.booleans())}
    variables = {n: v for n, v in variables.items() if n in used}
    key = draw(st.sampled_from(["pk_demo_panda", "pk_demo_aurelian"]))
    return query, variables, key


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(documents())
def test_the_plan_answers_as_the_generic_executor_does(world: World, document: tuple[str, dict[str, Any], str]):
    query, variables, key = document

    async def both() -> tuple[Any, Any, Any]:
        generic = await SCHEMA.execute(query, variable_values=variables, context_value=world.context(key))
        plan = Plan(GQL, SCHEMA.config.name_converter, parse(query), "Q")
        return generic, await plan.run(world.context(key), variables), await plan.run(world.context(key), variables)

    # when
    generic, fast, again = world.runner.run(both())
    # then
    if generic.errors:
        assert fast is None and again is None, generic.errors
    else:
        assert fast is not None, query
        assert orjson.dumps(fast) == orjson.dumps(again) == orjson.dumps(generic.data)


def test_the_generated_documents_reach_the_listings_batched_fields(world: World):
    # The strategy above is only worth its examples if it reaches the fields a listing page costs.
    query = """query Q($region: String!, $on: Boolean!) { products(first: 20) { nodes { handle
        category { name parent { handle } } coupons { code title threshold { amount } }
        skus { code price { amount minorUnits } availability(region: $region) { status quantityAvailable }
               deliveryOptions(region: $region) { tier fee { minorUnits } slots { id startsAt } }
               product @include(if: $on) { handle } } } } }"""
    variables = {"region": "1_72_2799_0", "on": True}

    async def both() -> tuple[Any, Any]:
        generic = await SCHEMA.execute(query, variable_values=variables, context_value=world.context("pk_demo_panda"))
        plan = Plan(GQL, SCHEMA.config.name_converter, parse(query), "Q")
        return generic, await plan.run(world.context("pk_demo_panda"), variables)

    generic, fast = world.runner.run(both())
    assert not generic.errors
    nodes = generic.data["products"]["nodes"]
    assert any(n["coupons"] for n in nodes) and any(s["deliveryOptions"] for n in nodes for s in n["skus"])
    assert orjson.dumps(fast) == orjson.dumps(generic.data)


def test_a_plan_declines_what_would_be_an_error(world: World):
    # given a region that is no region code: the generic path answers with a field error
    query = 'query Q { sku(code: "DIAPER-L54") { availability(region: "x") { status } } }'

    async def run() -> Any:
        return await Plan(GQL, SCHEMA.config.name_converter, parse(query), "Q").run(world.context("pk_demo_panda"), {})

    # when / then
    assert world.runner.run(run()) is None


async def test_over_http_the_planned_answer_is_the_generic_answer_byte_for_byte(settings: Settings, demo: Any):
    query = """query Listing($region: String!) { products(first: 5) { nodes { handle title
        priceRange { min { amount minorUnits } } coupons { code }
        skus { code availability(region: $region) { status } deliveryOptions(region: $region) { tier fee { amount } } } } } }"""
    body = {"query": query, "variables": {"region": "1_72_2799_0"}, "operationName": "Listing"}
    headers = {"X-Jimu-Key": "pk_demo_panda"}
    async with api_client(replace(settings, fast_path=False), demo) as generic:
        expected = (await generic.post("/graphql", json=body, headers=headers)).content
    async with api_client(settings, demo) as fast:
        first = await fast.post("/graphql", json=body, headers=headers)  # answered generically, and learned
        second = await fast.post("/graphql", json=body, headers=headers)  # answered by the plan
        bad = await fast.post("/graphql", json={**body, "variables": {"region": "x"}}, headers=headers)
    assert b'"errors"' not in expected
    assert first.content == second.content == expected
    assert second.headers["content-type"] == "application/json"
    # a request the plan declines (a field error) gets the generic answer, errors and all
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
