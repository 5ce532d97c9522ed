from datetime import datetime, timedelta, timezone

import pytest

from adapters.catalog.entries import resolve_time
from adapters.catalog.format import CatalogInvalid, parse_catalog
from gateway.demo import demo_files
from tests.factories import catalog, load_json, product, sku

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def problems(data) -> list[tuple[str, str]]:
    with pytest.raises(CatalogInvalid) as caught:
        parse_catalog(data, NOW)
    return caught.value.problems


def test_the_demo_files_are_valid():
    for path in demo_files():
        parsed = parse_catalog(load_json(path), NOW)
        assert parsed.products


def test_a_float_price_is_refused_with_its_path_and_its_figure_in_fen():
    data = catalog(products=[product("p", skus=[sku("A", price=159.0)])])
    assert problems(data) == [("products[0].skus[0].price", "price is in fen, an integer: 15900 for 159.00")]


def test_one_pass_reports_type_errors_duplicates_and_references_together():
    # given a type error, a duplicate SKU and a coupon naming a SKU that is not there
    data = catalog(
        products=[product("p", skus=[sku("A", price="159.00")]), product("q", skus=[sku("B"), sku("A")])],
        coupons=[{"code": "C", "title": "t", "kind": "AMOUNT_OFF", "discount": 100, "totalQuantity": 1,
                  "validDays": 1, "scope": "SKUS", "skuCodes": ["A", "NOPE"]}],
    )
    # when
    found = problems(data)
    # then
    assert found == [
        ("products[0].skus[0].price", "price is in fen, an integer: 15900 for 159.00"),
        ("products[1].skus[1].code", "SKU code 'A' is already used at products[0].skus[0].code"),
        ("coupons[0].skuCodes[1]", "no SKU 'NOPE' in this file"),
    ]


def test_cross_checks_read_rows_whose_neighbours_are_broken():
    # given a campaign, a category and a warehouse that do not validate, and rows that refer to them
    data = catalog(
        categories=[{"handle": "baby", "name": ""}, {"handle": "baby", "name": "Again"}],
        warehouses=[{"code": "N", "regions": []}],
        products=[product("p", category="baby", skus=[sku("A", stock={"N": 1, "S": 2})])],
        coupons=[{"code": "C", "title": "t", "kind": "AMOUNT_OFF", "discount": "1", "totalQuantity": 1,
                  "validDays": 1, "scope": "CATEGORY", "categoryHandle": "nowhere"}],
        campaigns=[{"code": "K", "title": "k", "requiredAssists": 0, "rewardTemplateCode": "C",
                    "assisterRewardTemplateCode": "GONE", "startsAt": "-1d", "endsAt": "+1d"}],
    )
    # when
    found = problems(data)
    # then: every fault, and no reference to a row that is there but broken
    assert found == [
        ("categories[0].name", "must not be empty"),
        ("categories[1].handle", "category handle 'baby' is already used at categories[0].handle"),
        ("warehouses[0].regions", "needs at least 1 entry"),
        ("products[0].skus[0].stock.S", "no warehouse 'S' in this file"),
        ("coupons[0].discount", "discount is in fen, an integer without quotes: 1"),
        ("coupons[0].categoryHandle", "no category 'nowhere' in this file"),
        ("campaigns[0].requiredAssists", "must be at least 1"),
        ("campaigns[0].assisterRewardTemplateCode", "no coupon 'GONE' in this file"),
    ]


def test_a_duplicate_points_at_the_later_row_and_names_the_first():
    data = catalog(
        products=[product("p"), product("q"), product("p", skus=[sku("X")])],
        warehouses=[{"code": "N", "regions": ["1"]}, {"code": "N", "regions": ["2"]}],
        delivery={"tiers": [{"tier": "EXPRESS", "title": "e", "fee": 0, "regions": ["1"]},
                            {"tier": "EXPRESS", "title": "e2", "fee": 0, "regions": ["2"]}]},
    )
    assert problems(data) == [
        ("warehouses[1].code", "warehouse code 'N' is already used at warehouses[0].code"),
        ("products[2].handle", "product handle 'p' is already used at products[0].handle"),
        ("delivery.tiers[1].tier", "tier 'EXPRESS' is already used at delivery.tiers[0].tier"),
    ]


@pytest.mark.parametrize("where", ["warehouse", "tier", "surcharge"])
def test_a_region_the_table_does_not_know_is_refused_where_it_stands(where: str):
    # given region "99": the right form, but no province of the table
    warehouse = {"code": "N", "regions": ["1", "99" if where == "warehouse" else "2"]}
    tier = {"tier": "STANDARD", "title": "s", "fee": 600, "regions": ["99" if where == "tier" else "*"],
            "remoteSurcharge": {"99" if where == "surcharge" else "26": 1000}}
    data = catalog(warehouses=[warehouse], delivery={"tiers": [tier]})
    # when
    found = problems(data)
    # then
    at = {"warehouse": "warehouses[0].regions[1]", "tier": "delivery.tiers[0].regions[0]",
          "surcharge": "delivery.tiers[0].remoteSurcharge.99"}[where]
    assert found == [(at, "no province '99' in the region table (the regions query lists them)")]


def test_every_region_rule_may_be_everywhere():
    tier = {"tier": "STANDARD", "title": "s", "fee": 600, "regions": ["*"], "remoteSurcharge": {"*": 100}}
    parse_catalog(catalog(warehouses=[{"code": "N", "regions": ["*"]}], delivery={"tiers": [tier]}), NOW)


def test_every_structural_problem_is_reported_not_only_the_first():
    # given
    data = catalog(products=[product("p", skus=[sku("A", price=-1)]), product("Bad Handle")])
    data["surprise"] = True
    # when
    paths = [path for path, _ in problems(data)]
    # then
    assert "products[0].skus[0].price" in paths
    assert "products[1].handle" in paths
    assert "surprise" in paths


def test_references_and_duplicates_are_checked_across_the_file():
    # given
    data = catalog(
        products=[
            product("p", category="nowhere", skus=[sku("A", stock={"XX": 1})]),
            product("p", skus=[sku("A")]),
        ],
        categories=[{"handle": "a", "name": "A", "parent": "b"}, {"handle": "b", "name": "B", "parent": "a"}],
    )
    # when
    found = problems(data)
    # then
    assert ("products[0].category", "no category 'nowhere' in this file") in found
    assert ("products[0].skus[0].stock.XX", "no warehouse 'XX' in this file") in found
    assert ("products[1].handle", "product handle 'p' is already used at products[0].handle") in found
    assert ("products[1].skus[0].code", "SKU code 'A' is already used at products[0].skus[0].code") in found
    assert ("categories[0].parent", "categories form a cycle: a -> b -> a") in found


def test_a_deposit_above_twenty_percent_of_the_price_is_refused():
    # given: 20% of 10,000 is 2,000
    policy = {"deposit": 2001, "creditedValue": 1000, "balanceDueHours": 72, "balanceMethods": ["ONLINE"]}
    data = catalog(products=[product("w", skus=[sku("W", price=10_000, deposit=policy)])])
    # then
    assert problems(data) == [
        ("products[0].skus[0].deposit.deposit",
         "a deposit may not exceed 20% of the price: at most 2000 fen for a price of 10000"),
        ("products[0].skus[0].deposit.creditedValue", "creditedValue must be at least the deposit"),
    ]


def test_a_deposit_needs_a_way_to_pay_its_balance():
    policy = {"deposit": 1000, "creditedValue": 1000, "balanceDueHours": 72, "balanceMethods": []}
    data = catalog(products=[product("w", skus=[sku("W", price=10_000, deposit=policy)])])
    assert [path for path, _ in problems(data)] == ["products[0].skus[0].deposit.balanceMethods"]


def test_a_deposit_of_exactly_twenty_percent_is_allowed():
    policy = {"deposit": 2000, "creditedValue": 2400, "balanceDueHours": 72, "balanceMethods": ["POS_ON_DELIVERY"]}
    parse_catalog(catalog(products=[product("w", skus=[sku("W", price=10_000, deposit=policy)])]), NOW)


def test_coupon_and_campaign_sections_are_validated_before_they_are_used():
    # given
    data = catalog(
        products=[product("p", skus=[sku("A")])],
        coupons=[
            {"code": "C1", "title": "t", "kind": "AMOUNT_OFF", "percentOff": 5, "totalQuantity": 1, "validDays": 1},
            {"code": "C2", "title": "t", "kind": "PERCENT_OFF", "percentOff": 5, "scope": "SKUS",
             "skuCodes": ["NOPE"], "totalQuantity": 1, "claimStartsAt": "+2d", "claimEndsAt": "+1d"},
        ],
        campaigns=[{"code": "K", "title": "k", "requiredAssists": 5, "rewardTemplateCode": "MISSING",
                    "startsAt": "-1d", "endsAt": "+1d"}],
    )
    # when
    found = problems(data)
    # then
    assert ("coupons[0].discount", "AMOUNT_OFF needs a positive discount") in found
    assert ("coupons[0].percentOff", "AMOUNT_OFF takes no percentOff") in found
    assert ("coupons[1].skuCodes[0]", "no SKU 'NOPE' in this file") in found
    assert ("coupons[1].claimEndsAt", "must come after claimStartsAt") in found
    assert ("coupons[1].validDays", "give validDays of at least 1, or validUntil") in found
    assert ("campaigns[0].rewardTemplateCode", "no coupon 'MISSING' in this file") in found


def test_scheduled_delivery_needs_slots_in_a_real_time_zone():
    tiers = [
        {"tier": "SCHEDULED", "title": "s", "fee": 0, "regions": ["1"]},
        {"tier": "PREMIUM", "title": "p", "fee": 0, "regions": ["1"],
         "slots": {"days": 1, "windows": ["12:00-10:00"], "capacity": 1, "timezone": "Mars/Olympus"}},
    ]
    found = problems(catalog(delivery={"tiers": tiers}))
    assert ("delivery.tiers[0].slots", "SCHEDULED delivery needs slots") in found
    assert ("delivery.tiers[1].slots.timezone", "unknown time zone 'Mars/Olympus'") in found
    assert ("delivery.tiers[1].slots.windows[0]", "a window must end after it starts") in found


def test_relative_times_count_from_the_load_time():
    assert resolve_time("+30d", NOW) == NOW + timedelta(days=30)
    assert resolve_time("-1d", NOW) == NOW - timedelta(days=1)
    assert resolve_time("+2h", NOW) == NOW + timedelta(hours=2)
    assert resolve_time("2026-06-18T09:00:00+08:00", NOW) == datetime(2026, 6 , 18, 1, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="offset"):
        resolve_time("2026-06-18T09:00:00", NOW)


def test_a_coupon_time_without_an_offset_is_refused_where_it_stands():
    coupon = {"code": "C", "title": "t", "kind": "AMOUNT_OFF", "discount": 1, "totalQuantity": 1,
              "validUntil": "2026-07-01T00:00:00"}
    assert problems(catalog(coupons=[coupon])) == [
        ("coupons[0].validDays", "give validDays of at least 1, or validUntil"),
        ("coupons[0].validUntil", "a time needs an offset, e.g. 2026-06-18T09:00:00+08:00"),
    ]


@pytest.mark.parametrize("when", ["+99999999d", "-99999d", "9999-12-31T23:59:59+00:00", "2100-01-01T00:00:00+00:00",
                                  "2026-06-18T09:00:00+15:00"])
def test_a_time_no_read_could_serve_is_refused_where_it_stands(when: str):
    with pytest.raises(ValueError, match="time"):
        resolve_time(when, NOW)
    campaign = {"code": "K", "title": "k", "requiredAssists": 5, "rewardTemplateCode": "C",
                "startsAt": "-1d", "endsAt": when}
    coupon = {"code": "C", "title": "t", "kind": "AMOUNT_OFF", "discount": 1, "totalQuantity": 1, "validDays": 1}
    found = problems(catalog(coupons=[coupon], campaigns=[campaign]))
    assert [path for path, _ in found] == ["campaigns[0].endsAt"], found


def test_a_coupon_valid_for_more_than_ten_years_is_refused():
    coupon = {"code": "C", "title": "t", "kind": "AMOUNT_OFF", "discount": 1, "totalQuantity": 1, "validDays": 3651}
    assert problems(catalog(coupons=[coupon])) == [("coupons[0].validDays", "must be from 1 to 3650")]


def test_a_campaign_keeps_the_apis_bounds():
    coupon = {"code": "C", "title": "t", "kind": "AMOUNT_OFF", "discount": 1, "totalQuantity": 1, "validDays": 1}
    campaign = {"code": "K", "title": "k", "requiredAssists": 10_001, "helperDailyLimit": 1_001,
                "rewardTemplateCode": "C", "startsAt": "+2d", "endsAt": "+1d"}
    assert problems(catalog(coupons=[coupon], campaigns=[campaign])) == [
        ("campaigns[0].requiredAssists", "must be from 1 to 10000"),
        ("campaigns[0].helperDailyLimit", "must be from 1 to 1000"),
        ("campaigns[0].endsAt", "must come after startsAt"),
    ]


@pytest.mark.parametrize("flag", ["yes", 1, "true", None])
def test_a_flag_is_true_or_false_and_nothing_else(flag):
    coupon = {"code": "C", "title": "t", "kind": "AMOUNT_OFF", "discount": 1, "totalQuantity": 1, "validDays": 1,
              "hidden": flag}
    assert problems(catalog(coupons=[coupon])) == [("coupons[0].hidden", "must be true or false")]


def test_a_key_given_twice_in_one_object_is_refused(tmp_path):
    from gateway.catalog_import import ImportFailed, read_catalog

    path = tmp_path / "twice.json"
    path.write_text('{"format": "jimu.catalog/1", "shop": {"handle": "s", "name": "S", "name": "T"}}', encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        read_catalog(path)
    assert caught.value.problems == [(str(path), "", "the key 'name' appears twice in one object: keep one")]
