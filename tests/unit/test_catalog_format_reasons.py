"""The reasons a bad catalog row is given: plain words, the unit, an example, never pydantic's text."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from adapters.catalog.format import CatalogInvalid, parse_catalog
from tests.factories import catalog, product, sku

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
PYDANTIC_WORDS = ("Input should", "String should", "List should", "Field required", "Extra inputs", "Value error")


def reasons(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(data, NOW)
    return dict(caught.value.problems)


def one_sku(**fields: Any) -> dict[str, Any]:
    return catalog(products=[product("p", skus=[sku("A", **fields)])])


AT = "products[0].skus[0]"


@pytest.mark.parametrize(
    ("price", "reason"),
    [
        ("159.00", "price is in fen, an integer: 15900 for 159.00"),
        (159.5, "price is in fen, an integer: 15950 for 159.50"),
        ("15900", "price is in fen, an integer without quotes: 15900"),
        (1.555, "price is in fen, an integer: 15900 for 159.00"),
        (True, "price is in fen, an integer: 15900 for 159.00"),
        (-1, "must be at least 0 fen"),
    ],
)
def test_money_says_it_is_in_fen_with_the_figure_for_the_value_given(price: Any, reason: str):
    assert reasons(one_sku(price=price)) == {f"{AT}.price": reason}


def test_other_whole_numbers_say_what_they_count():
    found = reasons(one_sku(purchaseLimit="3", stock={"N": 1.5}))
    assert found[f"{AT}.purchaseLimit"] == "purchaseLimit must be a whole number of units: 3, not '3'"
    assert found[f"{AT}.stock.N"] == "stock must be a whole number of units, not 1.5"


def test_bounds_are_said_as_bounds():
    found = reasons(one_sku(purchaseLimit=0, stock={"N": -1}))
    assert found[f"{AT}.purchaseLimit"] == "must be at least 1"
    assert found[f"{AT}.stock.N"] == "must be at least 0"


@pytest.mark.parametrize(
    ("data", "at", "reason"),
    [
        (catalog(products=[product("Bad Handle")]), "products[0].handle",
         "'Bad Handle' is not a handle: use 1 to 63 lowercase letters, digits and dashes, starting with a letter "
         "or digit, e.g. baby-care"),
        (catalog(products=[product("p", skus=[sku("no spaces")])]), f"{AT}.code",
         "'no spaces' is not a code: use 1 to 64 letters, digits, '_' and '-', starting with a letter or digit, "
         "e.g. DIAPER-L54"),
        (catalog(warehouses=[{"code": "N", "regions": ["1-72"]}]), "warehouses[0].regions[0]",
         "'1-72' is not a region code (1 to 4 numeric segments joined by _, e.g. 19_1601)"),
        (catalog(products=[product("p", images=[{"url": "ftp://x"}])]), "products[0].images[0].url",
         "'ftp://x' is not an image URL: use http:// or https:// and an address without spaces"),
        (catalog(keys=("pk_x", "sk_secret")), "shop.keys.publishable",
         "'pk_x' is not a publishable key: use pk_ and 4 to 100 letters, digits, '_' or '-'"),
        (catalog(campaigns=[{"code": "K", "title": "k", "requiredAssists": 1, "rewardTemplateCode": "C",
                             "startsAt": "yesterday", "endsAt": "+1d"}]), "campaigns[0].startsAt",
         "'yesterday' is not a time: use an offset from the import ('+30d', '-1d', '+2h', '+15m') or an ISO-8601 "
         "time with its offset, e.g. 2026-06-18T09:00:00+08:00"),
        (catalog(delivery={"tiers": [{"tier": "SCHEDULED", "title": "s", "fee": 0, "regions": ["1"], "slots": {
            "days": 1, "windows": ["9-12"], "capacity": 1, "timezone": "Asia/Shanghai"}}]}),
         "delivery.tiers[0].slots.windows[0]",
         "'9-12' is not a delivery window: use HH:MM-HH:MM on the 24-hour clock, e.g. 09:00-12:00"),
    ],
)
def test_a_pattern_is_described_by_what_it_asks_for(data: dict[str, Any], at: str, reason: str):
    assert reasons(data)[at] == reason


def test_an_unknown_key_names_the_closest_known_one():
    data = one_sku(prise=100)
    data["sho"] = {}
    found = reasons(data)
    assert found[f"{AT}.prise"] == "unknown key 'prise': did you mean 'price'?"
    assert found["sho"] == "unknown key 'sho': did you mean 'shop'?"


def test_an_unknown_key_with_no_close_one_lists_the_keys_there():
    data = catalog(warehouses=[{"code": "N", "regions": ["1"], "zzz": 1}])
    assert reasons(data)["warehouses[0].zzz"] == "unknown key 'zzz': the keys here are code, regions"


def test_missing_fields_literals_and_kinds_are_said_plainly():
    data = catalog(
        products=[{"handle": "p", "skus": [{"code": "A", "title": "a", "price": 1, "premiumDeliveryEligible": "maybe"}],
                   "tags": "one"}],
        delivery={"tiers": [{"tier": "express", "title": "", "fee": 0, "regions": ["1"]}]},
    )
    data["format"] = "jimu.catalog/2"
    found = reasons(data)
    assert found == {
        "format": "must be jimu.catalog/1",
        "products[0].title": "title is required",
        "products[0].tags": "must be a list: [...]",
        "products[0].skus[0].premiumDeliveryEligible": "must be true or false",
        "delivery.tiers[0].tier": "must be one of STANDARD, EXPRESS, SCHEDULED, PREMIUM: did you mean EXPRESS?",
        "delivery.tiers[0].title": "must not be empty",
    }


def test_no_reason_is_pydantic_text():
    # given a file with a fault of every common kind
    data = one_sku(price="1", title="", options={"": "x"}, deposit=5, stock={"N": "1"}, prise=1)
    data["shop"]["name"] = 7
    data["categories"] = [{"handle": "c"}]
    data["coupons"] = "none"
    # when
    found = reasons(data)
    # then
    assert len(found) == 9
    assert not [reason for reason in found.values() if reason.startswith(PYDANTIC_WORDS)], found
