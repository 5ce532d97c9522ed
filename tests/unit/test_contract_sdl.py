"""The served schema holds the public contract (schema/contract/storefront.graphql, version 2):
every type, field, argument and enum value it names, with a compatible type. More is
allowed; graphql-core's breaking-change finder says what a client of the contract would lose."""

from __future__ import annotations

from pathlib import Path

from graphql import build_schema as from_sdl
from graphql import find_breaking_changes

from gateway.graphql import build_schema

CONTRACT = Path(__file__).parents[2] / "schema" / "contract" / "storefront.graphql"


def test_the_served_schema_breaks_nothing_of_the_contract():
    contract = from_sdl(CONTRACT.read_text(encoding="utf-8"))
    served = build_schema()._schema
    assert [f"{c.type.name}: {c.description}" for c in find_breaking_changes(contract, served)] == []


def test_the_check_sees_a_dropped_field():
    # the same check against a contract with one field more than is served finds it
    contract = from_sdl(CONTRACT.read_text(encoding="utf-8").replace(
        "type PageInfo {", "type PageInfo {\n  pageNumber: Int!"))
    served = build_schema()._schema
    assert [c.description for c in find_breaking_changes(contract, served)] == ["Field PageInfo.pageNumber was removed."]
