import pytest

from adapters.inventory.port import WantedLine
from adapters.inventory.rules import allocate, merge_lines, serves, stock_status


@pytest.mark.parametrize(
    ("rules", "region", "expected"),
    [
        (["1"], "1", True),
        (["1"], "1_72_2799_0", True),
        (["1"], "10", False),
        (["1"], "11_72", False),
        (["19_1601"], "19_1601_3633", True),
        (["19_1601"], "19_1607", False),
        (["19_1601"], "19", False),
        (["*"], "26_1", True),
        (["2", "19"], "19_1607", True),
        ([], "1", False),
        (["26"], None, True),
    ],
)
def test_a_rule_covers_a_region_by_whole_leading_segments(rules, region, expected):
    assert serves(rules, region) is expected


@pytest.mark.parametrize(
    ("quantity", "deposit", "status"),
    [(0, False, "OUT_OF_STOCK"), (0, True, "PREORDER"), (1, False, "LOW_STOCK"), (5, True, "LOW_STOCK"),
     (6, False, "IN_STOCK"), (-2, False, "OUT_OF_STOCK")],
)
def test_stock_status_by_quantity(quantity, deposit, status):
    assert stock_status(quantity, sold_on_deposit=deposit) == status


def test_lines_of_one_sku_count_together():
    merged = merge_lines([WantedLine(7, 2, 3), WantedLine(3, 1), WantedLine(7, 4, 3)])
    assert list(merged) == [3, 7]
    assert merged[7] == WantedLine(7, 6, 3)


def test_a_line_must_want_something():
    with pytest.raises(ValueError):
        merge_lines([WantedLine(1, 0)])


def test_allocation_takes_warehouses_in_order_and_splits_when_needed():
    assert allocate(5, [("A", 3), ("B", 4)]) == [("A", 3), ("B", 2)]
    assert allocate(2, [("A", 0), ("B", 4)]) == [("B", 2)]
    assert allocate(8, [("A", 3), ("B", 4)]) is None
    assert allocate(1, [("A", -1)]) is None
