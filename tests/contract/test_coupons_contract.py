"""The coupons and members ports: the same behaviour from the fake and from SQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.coupons.port import (
    ClaimClosed,
    CouponState,
    LimitReached,
    NotFound,
    NotUsable,
    NotYetClaimable,
    SoldOut,
    Source,
)
from adapters.db import utcnow
from adapters.members.port import AssistError, AssistState, CampaignExists, CampaignSpec
from adapters.shops.rules import hash_key
from gateway.wiring import Adapters
from tests.conftest import load_demo

NOW = utcnow()


@pytest.fixture
async def panda(adapters: Adapters) -> int:
    await load_demo(adapters)
    found = await adapters.shops.shop_for_key(hash_key("pk_demo_panda"))
    return found[0].id


async def template(adapters: Adapters, shop: int, code: str):
    [found] = await adapters.coupons.templates_by_code(shop, [code])
    assert found is not None
    return found


async def test_the_demo_templates_and_campaign_are_imported(adapters: Adapters, panda: int):
    big = await template(adapters, panda, "BIG-A")
    assert (big.spec.total_quantity, big.spec.hidden, big.remaining) == (1000, True, 1000)
    [campaign] = await adapters.members.campaigns_by_code(panda, ["PANDA-ASSIST-50"])
    assert campaign.spec.reward_template_id == big.id and campaign.spec.required_assists == 50
    claimable = {t.spec.code for t in await adapters.coupons.claimable(panda, NOW)}
    assert claimable == {"WELCOME-20", "WIPES-95", "PLAT-5"}, "hidden templates are never offered"


async def test_a_second_import_keeps_relative_times_and_changes_nothing(adapters: Adapters, panda: int):
    from adapters.catalog.format import parse_catalog
    from gateway.demo import demo_files
    from tests.factories import load_json

    before = await template(adapters, panda, "WELCOME-20")
    later = NOW + timedelta(hours=5)
    [panda_file] = [p for p in demo_files() if "panda" in p.name]
    report = await adapters.catalog.apply(parse_catalog(load_json(panda_file), later), later)
    assert not report.changed
    assert (await template(adapters, panda, "WELCOME-20")).spec.claim_ends_at == before.spec.claim_ends_at


async def test_a_claim_issues_one_coupon_valid_for_the_templates_days(adapters: Adapters, panda: int):
    welcome = await template(adapters, panda, "WELCOME-20")
    coupon = await adapters.coupons.claim(panda, welcome.id, 7, NOW, Source.CLAIM)
    assert coupon.state is CouponState.AVAILABLE and coupon.valid_until == NOW + timedelta(days=30)
    assert (await template(adapters, panda, "WELCOME-20")).remaining == 9_999
    with pytest.raises(LimitReached):
        await adapters.coupons.claim(panda, welcome.id, 7, NOW, Source.CLAIM)
    assert [c.id for c in await adapters.coupons.coupons_of(panda, 7, NOW)] == [coupon.id]
    later = NOW + timedelta(days=31)
    assert (await adapters.coupons.coupons_of(panda, 7, later))[0].state is CouponState.EXPIRED


async def test_claims_respect_visibility_windows_and_stock(adapters: Adapters, panda: int):
    big = await template(adapters, panda, "BIG-A")
    welcome = await template(adapters, panda, "WELCOME-20")
    with pytest.raises(NotFound):
        await adapters.coupons.claim(panda, big.id, 7, NOW, Source.CLAIM)
    with pytest.raises(NotYetClaimable):
        await adapters.coupons.claim(panda, welcome.id, 7, welcome.spec.claim_starts_at - timedelta(seconds=1), Source.CLAIM)
    with pytest.raises(ClaimClosed):
        await adapters.coupons.claim(panda, welcome.id, 7, welcome.spec.claim_ends_at, Source.CLAIM)
    with pytest.raises(NotFound):
        await adapters.coupons.claim(panda + 999, welcome.id, 7, NOW, Source.CLAIM)
    # a grant ignores visibility, but not stock
    granted = await adapters.coupons.claim(panda, big.id, 7, NOW, Source.GRANT)
    assert granted.template_id == big.id


async def test_a_template_runs_out(adapters: Adapters, panda: int):
    from adapters.coupons.port import CouponKind, Scope, StackingGroup, TemplateSpec

    spec = TemplateSpec("TINY", "tiny", CouponKind.AMOUNT_OFF, 0, 100, None, Scope.SHOP, (), None,
                        StackingGroup.SHOP, 2, 1, None, None, 1, None, None, False)
    tiny = await adapters.coupons.create_template(panda, spec)
    for shopper in (1, 2):
        await adapters.coupons.claim(panda, tiny.id, shopper, NOW, Source.CLAIM)
    with pytest.raises(SoldOut):
        await adapters.coupons.claim(panda, tiny.id, 3, NOW, Source.CLAIM)
    assert "TINY" not in {t.spec.code for t in await adapters.coupons.claimable(panda, NOW)}


async def test_lock_redeem_and_release_follow_the_order(adapters: Adapters, panda: int):
    welcome = await template(adapters, panda, "WELCOME-20")
    plat = await template(adapters, panda, "PLAT-5")
    a = await adapters.coupons.claim(panda, welcome.id, 7, NOW, Source.CLAIM)
    b = await adapters.coupons.claim(panda, plat.id, 7, NOW, Source.CLAIM)
    other = await adapters.coupons.claim(panda, plat.id, 8, NOW, Source.CLAIM)
    with pytest.raises(NotUsable):  # another shopper's coupon: nothing is locked
        await adapters.coupons.lock(panda, 7, [a.id, other.id], "o-1", NOW)
    assert {c.state for c in await adapters.coupons.coupons_of(panda, 7, NOW)} == {CouponState.AVAILABLE}
    await adapters.coupons.lock(panda, 7, [a.id, b.id], "o-1", NOW)
    with pytest.raises(NotUsable):
        await adapters.coupons.lock(panda, 7, [a.id], "o-2", NOW)
    assert await adapters.coupons.redeem(panda, "o-1") == 2
    assert await adapters.coupons.redeem(panda, "o-1") == 0
    assert await adapters.coupons.release(panda, "o-1") == 2
    assert {c.state for c in await adapters.coupons.coupons_of(panda, 7, NOW)} == {CouponState.AVAILABLE}


async def assist_ready(adapters: Adapters, panda: int, initiator: int):
    [campaign] = await adapters.members.campaigns_by_code(panda, ["PANDA-ASSIST-50"])
    with pytest.raises(AssistError) as refused:
        await adapters.members.start_assist(panda, campaign.id, initiator, NOW)
    assert refused.value.code == "PREREQUISITE_NOT_MET"
    await adapters.members.follow(panda, initiator)
    with pytest.raises(AssistError):
        await adapters.members.start_assist(panda, campaign.id, initiator, NOW)
    membership = await adapters.members.join(panda, initiator)
    assert membership.following and membership.member
    assist = await adapters.members.start_assist(panda, campaign.id, initiator, NOW)
    assert await adapters.members.start_assist(panda, campaign.id, initiator, NOW) == assist
    return campaign, assist


async def test_fifty_distinct_helpers_grant_the_reward_once(adapters: Adapters, panda: int):
    campaign, assist = await assist_ready(adapters, panda, initiator=1)
    members = adapters.members

    async def refused(helper: int, code: str, at=NOW):
        with pytest.raises(AssistError) as caught:
            await members.help_assist(panda, assist.id, helper, at)
        assert caught.value.code == code

    await refused(1, "SELF_ASSIST")
    for helper in range(100, 149):
        done = await members.help_assist(panda, assist.id, helper, NOW)
    await refused(100, "ALREADY_ASSISTED")
    assert (done.count, done.state, done.coupon_id) == (49, AssistState.OPEN, None)
    granted = await members.help_assist(panda, assist.id, 149, NOW)
    assert (granted.count, granted.state) == (50, AssistState.GRANTED) and granted.coupon_id is not None
    await refused(150, "ASSIST_COMPLETED")
    [coupon] = await adapters.coupons.coupons_by_id(panda, [granted.coupon_id], NOW)
    assert coupon.shopper_id == 1 and coupon.template_id == campaign.spec.reward_template_id
    assert (await template(adapters, panda, "BIG-A")).remaining == 999
    # every helper got one free-sample coupon
    sample = await template(adapters, panda, "SAMPLE-FREE")
    assert sample.remaining == 5000 - 50
    assert [c.template_id for c in await adapters.coupons.coupons_of(panda, 120, NOW)] == [sample.id]


async def test_a_helper_helps_at_most_the_daily_limit_and_is_rewarded_once(adapters: Adapters, panda: int):
    assists = [(await assist_ready(adapters, panda, initiator=i))[1] for i in (1, 2, 3, 4)]
    for a in assists[:3]:
        await adapters.members.help_assist(panda, a.id, 500, NOW)
    with pytest.raises(AssistError) as caught:
        await adapters.members.help_assist(panda, assists[3].id, 500, NOW)
    assert caught.value.code == "ASSIST_DAILY_LIMIT"
    tomorrow = NOW + timedelta(days=1)
    await adapters.members.help_assist(panda, assists[3].id, 500, tomorrow)
    assert len(await adapters.coupons.coupons_of(panda, 500, tomorrow)) == 1


async def test_outside_the_window_nothing_moves(adapters: Adapters, panda: int):
    campaign, assist = await assist_ready(adapters, panda, initiator=1)
    after = campaign.spec.ends_at + timedelta(seconds=1)
    with pytest.raises(AssistError) as caught:
        await adapters.members.help_assist(panda, assist.id, 9, after)
    assert caught.value.code == "CAMPAIGN_NOT_ACTIVE"
    [seen] = await adapters.members.assists_by_id(panda, [assist.id], after)
    assert seen.state is AssistState.EXPIRED and seen.count == 0


async def test_a_reward_that_runs_out_marks_the_assist_sold_out(adapters: Adapters, panda: int):
    from adapters.coupons.port import CouponKind, Scope, StackingGroup, TemplateSpec

    one = await adapters.coupons.create_template(panda, TemplateSpec(
        "ONE", "one", CouponKind.AMOUNT_OFF, 0, 100, None, Scope.SHOP, (), None, StackingGroup.SHOP, 1, 1,
        None, None, 7, None, None, True))
    spec = CampaignSpec("TWO", "two", 1, one.id, None, False, False, 3, NOW - timedelta(days=1), NOW + timedelta(days=1))
    campaign = await adapters.members.create_campaign(panda, spec)
    first = await adapters.members.start_assist(panda, campaign.id, 1, NOW)
    second = await adapters.members.start_assist(panda, campaign.id, 2, NOW)
    assert (await adapters.members.help_assist(panda, first.id, 3, NOW)).state is AssistState.GRANTED
    assert (await adapters.members.help_assist(panda, second.id, 3, NOW)).state is AssistState.SOLD_OUT
    with pytest.raises(CampaignExists):
        await adapters.members.create_campaign(panda, replace(spec, title="again"))
