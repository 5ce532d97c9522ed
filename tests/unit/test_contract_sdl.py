"""The served schema holds the public contract (schema/contract/storefront.graphql, version 2):
every type, field, argument and enum value it names, with a compatible type and the same
defaults. More is allowed: optional arguments, fields, types, enum values (the contract's
header says so). graphql-core's change finders say what a client of the contract would lose
(breaking) or could be surprised by (dangerous); an enum value added is named here, so that
each one is a decision and not an accident."""

from __future__ import annotations

from pathlib import Path

from graphql import DangerousChangeType, find_breaking_changes, find_dangerous_changes
from graphql import build_schema as from_sdl

from gateway.graphql import build_schema

CONTRACT = Path(__file__).parents[2] / "schema" / "contract" / "storefront.graphql"
# a shop's own system (goods, stock) did not answer: a checkout is refused with this code
ADDED_ENUM_VALUES = {"Enum value UserErrorCode.SERVICE_UNAVAILABLE was added."}


def test_the_served_schema_breaks_nothing_of_the_contract():
    contract = from_sdl(CONTRACT.read_text(encoding="utf-8"))
    served = build_schema()._schema
    assert [f"{c.type.name}: {c.description}" for c in find_breaking_changes(contract, served)] == []
    # of what graphql-core calls dangerous, only arguments added with a default and the enum values named
    surprises = [c for c in find_dangerous_changes(contract, served) if c.type is not DangerousChangeType.OPTIONAL_ARG_ADDED]
    assert sorted(c.description for c in surprises if c.description not in ADDED_ENUM_VALUES) == []
    assert {c.description for c in surprises if c.type is DangerousChangeType.VALUE_ADDED_TO_ENUM} == ADDED_ENUM_VALUES


def test_the_check_sees_a_changed_default():
    contract = from_sdl(CONTRACT.read_text(encoding="utf-8").replace(
        "orders(first: Int = 20, after: String, status: OrderStatus)", "orders(first: Int = 50, after: String, status: OrderStatus)"))
    served = build_schema()._schema
    assert [c.description for c in find_dangerous_changes(contract, served) if c.type.name == "ARG_DEFAULT_VALUE_CHANGE"] == [
        "MerchantView.orders(first:) has changed defaultValue from 50 to 20."]


def test_the_check_sees_a_dropped_field():
    # the same check against a contract with one field more than is served finds it
    contract = from_sdl(CONTRACT.read_text(encoding="utf-8").replace(
        "type PageInfo {", "type PageInfo {\n  pageNumber: Int!"))
    served = build_schema()._schema
    assert [c.description for c in find_breaking_changes(contract, served)] == ["Field PageInfo.pageNumber was removed."]


def test_the_refusal_codes_and_limits_are_in_the_schemas_own_words():
    served = build_schema()._schema
    query, mutation = served.query_type, served.mutation_type
    assert query is not None and mutation is not None
    for code in ("MAX_COST_EXCEEDED", "THROTTLED", "PERSISTED_QUERY_NOT_FOUND", "PERSISTED_QUERY_NOT_IN_LIST", "QUERY_NOT_IN_SAFELIST",
                 "extensions.cost", "10,000 points"):
        assert code in (query.description or ""), code
    for limited in ("shopperLogin per client address", "couponClaim and assistHelp per shopper"):
        assert limited in (mutation.description or ""), limited
