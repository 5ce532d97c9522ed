from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.goods import rules
from adapters.goods.port import Category, Position, ProductQuery, SortKey


@given(
    sort=st.sampled_from(list(SortKey)),
    reverse=st.booleans(),
    id_=st.integers(min_value=1, max_value=2**53),
    number=st.integers(min_value=0, max_value=10**15),
    title=st.text(min_size=0, max_size=50),
)
def test_a_cursor_reads_back_as_the_position_it_was_made_from(sort, reverse, id_, number, title):
    # given
    query = ProductQuery(sort=sort, reverse=reverse)
    value = {
        SortKey.RELEVANCE: number % 2,
        SortKey.PRICE: number,
        SortKey.CREATED_AT: datetime.fromtimestamp(number % 4_000_000_000, timezone.utc),
        SortKey.TITLE: title,
    }[sort]
    # when
    cursor = rules.encode_cursor(query, Position(value, id_))
    # then
    assert rules.decode_cursor(query, cursor) == Position(value, id_)


@pytest.mark.parametrize("cursor", ["", "garbage", "W10", "WyJQUklDRSIsZmFsc2UsInh4IiwxXQ", "bnVsbA", "%%%"])
def test_cursors_not_made_by_the_api_are_refused(cursor):
    with pytest.raises(rules.InvalidCursor):
        rules.decode_cursor(ProductQuery(sort=SortKey.PRICE), cursor)


def test_a_cursor_of_another_ordering_is_refused():
    # given
    cursor = rules.encode_cursor(ProductQuery(sort=SortKey.PRICE), Position(100, 1))
    # then
    with pytest.raises(rules.InvalidCursor, match="another sortKey"):
        rules.decode_cursor(ProductQuery(sort=SortKey.TITLE), cursor)
    with pytest.raises(rules.InvalidCursor, match="another sortKey"):
        rules.decode_cursor(ProductQuery(sort=SortKey.PRICE, reverse=True), cursor)


def test_search_text_folds_case_and_keeps_fields_apart():
    text = rules.search_text("Regatta 41 腕表", "Aurelian", ["Luxury", "限量"])
    assert "regatta" in text and "腕表" in text and "luxury" in text and "限量" in text
    # a query cannot match across the end of one field and the start of the next
    assert "腕表aurelian" not in text


def test_title_matches_rank_before_other_matches():
    assert rules.relevance_rank("云柔纸尿裤", "纸尿裤") == 0
    assert rules.relevance_rank("试用装", "纸尿裤") == 1
    assert rules.relevance_rank("anything", None) == 1


def test_a_category_subtree_holds_the_category_and_everything_below_it():
    # given
    cats = [
        Category(1, 1, "baby", "母婴", None),
        Category(2, 1, "diapers", "纸尿裤", 1),
        Category(3, 1, "night", "夜用", 2),
        Category(4, 1, "toys", "玩具", None),
    ]
    # then
    assert rules.category_subtree(cats, "baby") == {1, 2, 3}
    assert rules.category_subtree(cats, "diapers") == {2, 3}
    assert rules.category_subtree(cats, "nothing") == set()


@pytest.mark.parametrize("code", ["1", "19_1601", "1_72_2799_0", "52993", "19_1601_3633"])
def test_a_region_is_known_by_its_province_in_the_region_table(code):
    assert rules.region_problem(code) is None


@pytest.mark.parametrize("code", ["", "*", "a", "1_", "_1", "1__2", "1_2_3_4_5", "1-2", "１", "19_1601\n", "1\n"])
def test_anything_else_is_not_a_region_code(code):
    assert "is not a region code" in rules.region_problem(code)


@pytest.mark.parametrize("code", ["99", "0", "99_1601", "33_1"])
def test_a_code_of_no_province_is_refused(code):
    assert rules.region_problem(code) == (
        f"no province {code.split('_')[0]!r} in the region table (the regions query lists them)"
    )


def test_money_in_is_yuan_with_at_most_two_places():
    from decimal import Decimal

    from schema.common import minor_units

    assert minor_units(Decimal("118000")) == minor_units(Decimal("118000.00")) == 11_800_000
    assert minor_units(Decimal("0.5")) == 50 and minor_units(Decimal("-1")) == -100
    for not_money in ("1.005", "NaN", "Infinity", "1e30", "1e999999", "-1e999999", "92233720368547758.08"):
        assert minor_units(Decimal(not_money)) is None, not_money


@pytest.mark.parametrize("value", ["gid://jimu/Product/1\n", "gid://jimu/Cart/" + "A" * 22 + "\n"])
def test_an_id_with_a_line_break_after_it_is_no_id(value):
    from schema.common import parse_cart_gid, parse_gid

    assert parse_gid(value) is None and parse_cart_gid(value) is None
    assert parse_gid(value.rstrip("\n")) is not None or parse_cart_gid(value.rstrip("\n")) is not None
