from datetime import datetime, timezone

import pytest

from adapters.delivery.port import (
    EventKind,
    InvalidTransition,
    QuoteLine,
    SlotPlan,
    Tier,
    TierConfig,
)
from adapters.delivery.rules import check_event, fee_for, slot_windows, surcharge

STANDARD = TierConfig(Tier.STANDARD, "标准配送", 600, 9900, ("*",), (("26", 1000), ("26_1", 300), ("31", 1200)),
                      (), False, None)
PREMIUM = TierConfig(Tier.PREMIUM, "白手套", 0, None, ("1", "19_1601"), (), ("WHITE_GLOVE", "ID_CHECK", "APPOINTMENT"),
                     True, SlotPlan(2, ("10:00-12:00", "22:00-24:00"), 2, "Asia/Shanghai"))


def line(price: int, quantity: int = 1, eligible: bool = False) -> QuoteLine:
    return QuoteLine(1, price, quantity, eligible)


@pytest.mark.parametrize(
    ("lines", "region", "fee"),
    [
        ([line(4990)], "1", 600),
        ([line(4990, 2)], "1", 0),  # 99.80 reaches the free threshold of 99.00
        ([line(9899)], "1", 600),  # one fen short
        ([line(9900)], "1", 0),  # exactly the threshold is free
        ([line(4990, 2)], "26_5", 1000),  # remote surcharge stays when the fee is waived
        ([line(100)], "26_1_3", 900),  # the most specific rule's surcharge
        ([line(100)], "31", 1800),
    ],
)
def test_standard_fees(lines, region, fee):
    assert fee_for(STANDARD, region, lines) == fee


def test_premium_goes_only_to_its_regions_and_only_with_eligible_skus():
    assert fee_for(PREMIUM, "1_72", [line(13_000_000, eligible=True)]) == 0
    assert fee_for(PREMIUM, "19_1601_3633", [line(13_000_000, eligible=True)]) == 0
    assert fee_for(PREMIUM, "19_1607", [line(13_000_000, eligible=True)]) is None
    assert fee_for(PREMIUM, "1", [line(1, eligible=True), line(1, eligible=False)]) is None
    assert fee_for(PREMIUM, "1", []) is None


def test_surcharge_without_rules_is_zero():
    assert surcharge((), "1") == 0


def test_slots_are_made_in_the_shops_time_zone_and_only_before_they_start():
    # 2026-06-18 03:00 UTC is 11:00 in Shanghai: today's 10:00 window has started
    now = datetime(2026, 6, 18, 3, 0, tzinfo=timezone.utc)
    windows = slot_windows(PREMIUM.slots, now)
    assert [(s.isoformat(), e.isoformat()) for s, e in windows] == [
        ("2026-06-18T22:00:00+08:00", "2026-06-19T00:00:00+08:00"),
        ("2026-06-19T10:00:00+08:00", "2026-06-19T12:00:00+08:00"),
        ("2026-06-19T22:00:00+08:00", "2026-06-20T00:00:00+08:00"),
    ]


ROAD = [EventKind.CREATED, EventKind.PICKED, EventKind.OUT_FOR_DELIVERY]


def test_a_premium_delivery_needs_the_id_check_then_the_balance_before_handover():
    features = PREMIUM.features
    with pytest.raises(InvalidTransition, match="ID_VERIFIED"):
        check_event(Tier.PREMIUM, features, ROAD, EventKind.DELIVERED, balance_settled=True)
    check_event(Tier.PREMIUM, features, ROAD, EventKind.ID_VERIFIED, balance_settled=False)
    with pytest.raises(InvalidTransition, match="balance"):
        check_event(Tier.PREMIUM, features, [*ROAD, EventKind.ID_VERIFIED], EventKind.DELIVERED, balance_settled=False)
    check_event(Tier.PREMIUM, features, [*ROAD, EventKind.ID_VERIFIED], EventKind.DELIVERED, balance_settled=True)


def test_a_standard_delivery_follows_the_road_and_may_retry_after_a_failure():
    check_event(Tier.STANDARD, (), ROAD, EventKind.DELIVERED, balance_settled=False)
    check_event(Tier.STANDARD, (), [*ROAD, EventKind.FAILED], EventKind.OUT_FOR_DELIVERY, balance_settled=False)
    with pytest.raises(InvalidTransition):
        check_event(Tier.STANDARD, (), ROAD, EventKind.ID_VERIFIED, balance_settled=True)


@pytest.mark.parametrize(
    ("history", "kind"),
    [
        ([EventKind.CREATED], EventKind.DELIVERED),
        ([EventKind.CREATED], EventKind.OUT_FOR_DELIVERY),
        ([EventKind.CREATED, EventKind.PICKED], EventKind.PICKED),
        ([*ROAD, EventKind.DELIVERED], EventKind.FAILED),
        ([*ROAD, EventKind.DELIVERED], EventKind.DELIVERED),
        ([EventKind.CREATED], EventKind.CREATED),
    ],
)
def test_events_out_of_order_are_refused(history, kind):
    with pytest.raises(InvalidTransition):
        check_event(Tier.STANDARD, (), history, kind, balance_settled=True)
