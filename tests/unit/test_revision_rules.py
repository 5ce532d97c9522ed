"""What a template's history and a campaign's started assists let a revision change: pure rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.coupons import rules as coupon_rules
from adapters.coupons.port import (
    CouponKind,
    Disabled,
    Scope,
    StackingGroup,
    Template,
    TemplateSpec,
)
from adapters.db import utcnow
from adapters.members import rules as campaign_rules
from adapters.members.port import AssistError, Campaign, CampaignSpec

NOW = utcnow()
SPEC = TemplateSpec("T", "t", CouponKind.AMOUNT_OFF, 10_000, 1_000, None, Scope.SKUS, (1, 2), None,
                    StackingGroup.SHOP, 10, 1, None, None, 7, None, None, False)


def issued(n: int) -> Template:
    return Template(1, 1, SPEC, n)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": CouponKind.PERCENT_OFF}, "kind"),
        ({"threshold": 0}, "threshold"),
        ({"discount": 999}, "discount"),
        ({"percent_off": 5}, "percentOff"),
        ({"scope": Scope.SHOP}, "scope"),
        ({"sku_ids": (1,)}, "skuCodes"),
        ({"category_id": 3}, "categoryHandle"),
        ({"stacking_group": StackingGroup.PLATFORM}, "stackingGroup"),
    ],
)
def test_what_a_coupon_is_worth_is_fixed_once_one_was_issued(change: dict, field: str):
    new = replace(SPEC, **change)
    assert coupon_rules.revision_problems(issued(0), new) == []
    assert [(f, c) for f, c, _ in coupon_rules.revision_problems(issued(1), new)] == [(field, "INVALID_STATE")]


def test_the_same_goods_in_another_order_are_no_change():
    assert coupon_rules.revision_problems(issued(3), replace(SPEC, sku_ids=(2, 1))) == []


def test_the_name_window_limits_and_later_validity_may_change():
    new = replace(SPEC, title="new", claim_starts_at=NOW, claim_ends_at=NOW + timedelta(days=1), per_shopper_limit=3,
                  valid_days=30, hidden=True, total_quantity=4)
    assert coupon_rules.revision_problems(issued(4), new) == []


def test_the_total_never_falls_below_what_was_issued():
    assert [(f, c) for f, c, _ in coupon_rules.revision_problems(issued(5), replace(SPEC, total_quantity=4))] == [
        ("totalQuantity", "INVALID")]


def test_a_disabled_template_issues_nothing():
    coupon_rules.check_issuable(issued(0))
    with pytest.raises(Disabled) as refused:
        coupon_rules.check_issuable(replace(issued(0), disabled_at=NOW))
    assert refused.value.code == "COUPON_EXPIRED"


CAMPAIGN = Campaign(1, 1, CampaignSpec("C", "c", 5, 1, 2, True, True, 3, NOW, NOW + timedelta(days=7)))


def test_before_any_assist_a_campaign_may_change_anything():
    new = replace(CAMPAIGN.spec, reward_template_id=9, assister_template_id=None, starts_at=NOW + timedelta(days=1),
                  ends_at=NOW + timedelta(days=2))
    assert campaign_rules.revision_problems(CAMPAIGN, new, started=False) == []


def test_started_assists_keep_rewards_start_and_an_end_no_earlier():
    new = replace(CAMPAIGN.spec, reward_template_id=9, assister_template_id=None, starts_at=NOW - timedelta(days=1),
                  ends_at=NOW + timedelta(days=6))
    assert sorted(f for f, _, _ in campaign_rules.revision_problems(CAMPAIGN, new, started=True)) == [
        "assisterRewardTemplateCode", "endsAt", "rewardTemplateCode", "startsAt"]
    fine = replace(CAMPAIGN.spec, title="new", required_assists=9, helper_daily_limit=1, requires_follow=False,
                   ends_at=NOW + timedelta(days=8))
    assert campaign_rules.revision_problems(CAMPAIGN, fine, started=True) == []


def test_an_ended_campaign_is_not_active_and_closes_when_it_ended():
    ended = replace(CAMPAIGN, ended_at=NOW + timedelta(hours=1))
    campaign_rules.check_active(CAMPAIGN, NOW + timedelta(hours=2))
    with pytest.raises(AssistError) as refused:
        campaign_rules.check_active(ended, NOW + timedelta(minutes=1))
    assert refused.value.code == "CAMPAIGN_NOT_ACTIVE"
    assert campaign_rules.closes_at(CAMPAIGN.spec.ends_at, ended.ended_at) == NOW + timedelta(hours=1)
    assert campaign_rules.closes_at(CAMPAIGN.spec.ends_at, None) == CAMPAIGN.spec.ends_at
