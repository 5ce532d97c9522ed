from datetime import datetime, timedelta, timezone

import pytest

from adapters.coupons.port import (
    Coupon,
    CouponKind,
    CouponState,
    NotUsable,
    Scope,
    StackingGroup,
    Template,
    TemplateSpec,
)
from adapters.coupons.rules import (
    PricedLine,
    apply,
    discount_for,
    eligible_subtotal,
    shown_state,
    validity,
)

NOW = datetime(2026, 6, 18, tzinfo=timezone.utc)


def spec(**changes) -> TemplateSpec:
    base = dict(code="C", title="券", kind=CouponKind.AMOUNT_OFF, threshold=0, discount=1000, percent_off=None,
                scope=Scope.SHOP, sku_ids=(), category_id=None, stacking_group=StackingGroup.SHOP, total_quantity=10,
                per_shopper_limit=1, claim_starts_at=None, claim_ends_at=None, valid_days=7, valid_from=None,
                valid_until=None, hidden=False)
    return TemplateSpec(**{**base, **changes})


def held(template_spec: TemplateSpec, coupon_id: int = 1, until: datetime | None = None) -> tuple[Coupon, Template]:
    coupon = Coupon(coupon_id, 1, coupon_id, 9, CouponState.AVAILABLE, NOW - timedelta(days=1),
                    until or NOW + timedelta(days=1), None)
    return coupon, Template(coupon_id, 1, template_spec, 0)


DIAPERS = PricedLine(sku_id=1, category_ids=frozenset({2, 1}), subtotal=31_800)  # two packs of 159.00
WIPES = PricedLine(sku_id=3, category_ids=frozenset({4, 1}), subtotal=4_990)


def test_eligibility_follows_the_scope():
    assert eligible_subtotal(spec(), [DIAPERS, WIPES]) == 36_790
    assert eligible_subtotal(spec(scope=Scope.SKUS, sku_ids=(3,)), [DIAPERS, WIPES]) == 4_990
    assert eligible_subtotal(spec(scope=Scope.CATEGORY, category_id=2), [DIAPERS, WIPES]) == 31_800
    assert eligible_subtotal(spec(scope=Scope.CATEGORY, category_id=1), [DIAPERS, WIPES]) == 36_790


def test_percent_off_rounds_down_to_the_fen_and_no_discount_exceeds_what_it_covers():
    assert discount_for(spec(kind=CouponKind.PERCENT_OFF, discount=None, percent_off=5), 9_999) == 499
    assert discount_for(spec(discount=2_900), 2_900) == 2_900
    assert discount_for(spec(discount=5_000), 2_900) == 2_900


def test_the_big_coupon_needs_its_threshold_on_the_eligible_lines():
    big = spec(threshold=29_900, discount=15_000, scope=Scope.SKUS, sku_ids=(1,))
    assert [a.discount for a in apply([held(big)], [DIAPERS, WIPES], NOW)] == [15_000]
    one_pack = PricedLine(1, frozenset({2}), 15_900)
    with pytest.raises(NotUsable) as caught:
        apply([held(big)], [one_pack, WIPES], NOW)  # 159.00 + 49.90 of wipes, but only 159.00 is eligible
    assert caught.value.code == "COUPON_NOT_APPLICABLE"


def test_one_shop_coupon_and_one_platform_coupon_stack():
    shop, platform = spec(discount=2_000), spec(discount=500, stacking_group=StackingGroup.PLATFORM)
    assert [a.discount for a in apply([held(shop, 1), held(platform, 2)], [WIPES], NOW)] == [2_000, 500]
    with pytest.raises(NotUsable) as caught:
        apply([held(shop, 1), held(spec(discount=100), 2)], [WIPES], NOW)
    assert caught.value.code == "COUPON_STACKING_CONFLICT"


def test_discounts_together_never_exceed_the_subtotal():
    shop, platform = spec(discount=4_000), spec(discount=4_000, stacking_group=StackingGroup.PLATFORM)
    assert sum(a.discount for a in apply([held(shop, 1), held(platform, 2)], [WIPES], NOW)) == 4_990


def test_an_expired_coupon_does_not_apply_and_shows_expired():
    coupon, template = held(spec(), until=NOW)
    with pytest.raises(NotUsable) as caught:
        apply([(coupon, template)], [WIPES], NOW)
    assert caught.value.code == "COUPON_EXPIRED"
    assert shown_state(coupon, NOW) is CouponState.EXPIRED
    assert shown_state(coupon, NOW - timedelta(seconds=1)) is CouponState.AVAILABLE


def test_validity_is_fixed_or_counted_from_the_claim():
    assert validity(spec(valid_days=7), NOW) == (NOW, NOW + timedelta(days=7))
    fixed = spec(valid_days=None, valid_from=NOW - timedelta(days=1), valid_until=NOW + timedelta(days=2))
    assert validity(fixed, NOW) == (NOW - timedelta(days=1), NOW + timedelta(days=2))
