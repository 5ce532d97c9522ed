"""gateway.cost: the static price of a document, and the count of what its answer cost."""

from __future__ import annotations

import random
from typing import Any

import pytest

from gateway.cost import DEFAULT_LIST_SIZE, MUTATION_COST, Costs, _compile, _Field
from gateway.graphql import build_schema

SCHEMA = build_schema()._schema


def price(query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> int | None:
    priced = Costs(SCHEMA).of(query, name, variables)
    return None if priced is None else priced.requested


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        ("{ shop { name } }", None, 1),
        ("{ products(first: 3) { nodes { title } } }", None, 1 + 3),
        ("{ products { nodes { title } edges { node { title } } } }", None, 1 + 20 + 20 * 2),  # first defaults to 20
        ("{ products(last: 7) { nodes { title } } }", None, 1 + 7),
        ("{ products(first: 2, last: 7) { nodes { title } } }", None, 1 + 7),  # last wins (and is refused later)
        ("{ products(first: 5000) { nodes { title } } }", None, 1 + 100),  # no page is longer than 100
        ("query($n: Int) { products(first: $n) { nodes { title } } }", {"n": 4}, 1 + 4),
        ("query($n: Int = 6) { products(first: $n) { nodes { title } } }", None, 1 + 6),
        ("query($n: Int = 6) { products(first: $n) { nodes { title } } }", {"n": None}, 1 + 20),
        ("query($n: Int) { products(first: $n) { nodes { title } } }", {"n": "many"}, 1 + 20),
        ("{ products(first: 2) { nodes { skus { code } } } }", None, 1 + 2 * (1 + 10)),
        ("{ categories { name } regions { name } }", None, 50 + 40),
        ("{ me { coupons { id } } }", None, 1 + DEFAULT_LIST_SIZE),
        ('{ a: product(handle: "x") { title } b: product(handle: "y") { title } }', None, 2),
        ('{ node(id: "x") { ... on Product { skus { code } } ... on Sku { product { title } } } }', None, 1 + 10 + 1),
        ('query { ...F } fragment F on Query { shop { name } }', None, 1),
        ("{ __typename __schema { types { name } } }", None, 0),
        ('mutation { shopFollow { shopper { following } } }', None, MUTATION_COST + 1),
    ],
)
def test_the_price_follows_the_shape_and_the_page_sizes(query, variables, expected):
    assert price(query, variables) == expected


def test_a_field_selected_twice_is_priced_once_with_both_selections():
    once = price("{ product(handle: \"x\") { title skus { code } priceRange { min { amount } } } }")
    twice = price('{ product(handle: "x") { title skus { code } } product(handle: "x") { priceRange { min { amount } } } }')
    assert once == twice == 1 + 10 + 2


def test_what_names_no_operation_has_no_price():
    assert price("{ shop { ") is None
    assert price("query A { shop { name } } query B { shop { name } }") is None  # which one?
    assert price("query A { shop { name } } query B { shop { name } }", name="B") == 1
    assert price("subscription { shop { name } }") is None


def _reference(fields: tuple[_Field, ...], data: Any) -> int:
    """The obvious walk: every object in the answer at its field's own cost."""
    total = 0
    for field in fields:
        if not field.own:
            continue
        value = data.get(field.key) if isinstance(data, dict) else None
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                total += field.own + _reference(field.below, item)
    return total


def _answer(fields: tuple[_Field, ...], rng: random.Random) -> dict[str, Any]:
    """An answer of the tree's shape: lists of 0 to 4, nullable values null at times."""
    out: dict[str, Any] = {}
    for field in fields:
        if not field.own:
            out[field.key] = "leaf"
            continue

        def one() -> Any:
            return _answer(field.below, rng)

        if field.length == 1:
            out[field.key] = None if field.nullable and rng.random() < 0.3 else one()
        else:
            items = [None if field.nullable_items and rng.random() < 0.3 else one() for _ in range(rng.randrange(5))]
            out[field.key] = None if field.nullable and rng.random() < 0.2 else items
    return out


@pytest.mark.parametrize(
    "query",
    [
        """{ products(first: 20) { nodes { handle priceRange { min { amount } max { amount } } images { url }
             coupons { code } skus { code price { amount } compareAtPrice { amount } availability { status }
             deliveryOptions(region: "1") { tier fee { amount } slots { id } } } } } }""",
        '{ cart(id: "x") { lines { sku { product { title } } } cost { total { amount } } } me { orders { nodes { number } } } }',
        '{ node(id: "x") { ... on Product { skus { code } } } campaign(code: "c") { reward { code } } }',
        # no list below a SKU here: what may be null must still be looked at
        "{ products(first: 5) { nodes { skus { compareAtPrice { amount } price { amount } } category { parent { name } } } } }",
    ],
)
def test_the_count_of_an_answer_is_the_obvious_walks(query):
    compiled = _compile(SCHEMA, query, None)
    priced = Costs(SCHEMA).of(query, None, None)
    assert compiled is not None and priced is not None
    tree, _ = compiled
    rng = random.Random(7)
    for _ in range(200):
        data = _answer(tree, rng)
        assert priced.actual(data) == _reference(tree, data)
    assert priced.actual(None) == 0


FEDERATED = build_schema(federation=True)._schema
ENTITY = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { title skus { code } } ... on Sku { code } } }"


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        (ENTITY, {"r": [{}] * 3}, 3 * (1 + 10)),  # one object per representation, priced as its fragments ask
        (ENTITY, {"r": [{}] * 50}, 50 * (1 + 10)),
        (ENTITY, {"r": {}}, 1 + 10),  # one value is a list of one
        ('{ _entities(representations: [{a: 1}, {b: 2}]) { ... on Shop { name } } }', None, 2),
        ("{ _entities(representations: []) { __typename } }", None, 0),
    ],
)
def test_federation_entities_cost_one_object_per_representation(query: str, variables: Any, expected: int):
    priced = Costs(FEDERATED).of(query, None, variables)
    assert priced is not None and priced.requested == expected


def test_entities_cost_what_a_page_of_as_many_products_costs():
    # given the same selection on a product, in a page and as entities
    selection = "title category { name } skus { code availability { status } }"
    costs = Costs(FEDERATED)
    page = costs.of(f"query($n: Int!) {{ products(first: $n) {{ nodes {{ {selection} }} }} }}", None, {"n": 20})
    entities = costs.of(f"query($r: [_Any!]!) {{ _entities(representations: $r) {{ ... on Product {{ {selection} }} }} }}",
                        None, {"r": [{}] * 20})
    # then the same, but the connection's own point
    assert page is not None and entities is not None and entities.requested == page.requested - 1
    # and the answer counts what came: two products, one of them with a SKU, and a null
    answer = {"_entities": [{"title": "a", "category": None, "skus": [{"code": "x", "availability": {"status": "IN_STOCK"}}]},
                            {"title": "b", "category": {"name": "c"}, "skus": []}, None]}
    assert entities.actual(answer) == 1 + (1 + 1) + 1 + 1
