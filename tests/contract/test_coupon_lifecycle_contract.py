"""Templates revised and disabled, campaigns revised and ended: the same from the fake and from SQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.catalog.format import parse_catalog
from adapters.catalog.port import CatalogConflict
from adapters.coupons.port import (
    CouponKind,
    Disabled,
    RevisionRefused,
    Scope,
    Source,
    StackingGroup,
    TemplateChanged,
    TemplateSpec,
)
from adapters.db import utcnow
from adapters.members.port import (
    AssistError,
    AssistState,
    CampaignChanged,
    CampaignRevisionRefused,
    CampaignSpec,
)
from adapters.shops.rules import hash_key
from gateway.demo import demo_files
from gateway.wiring import Adapters
from tests.conftest import load_demo
from tests.factories import load_json

NOW = utcnow()


@pytest.fixture
async def panda(adapters: Adapters) -> int:
    await load_demo(adapters)
    found = await adapters.shops.shop_for_key(hash_key("pk_demo_panda"))
    return found[0].id


def spec(code: str = "LIFE", total: int = 3, hidden: bool = False) -> TemplateSpec:
    return TemplateSpec(code, "life", CouponKind.AMOUNT_OFF, 10_000, 1_000, None, Scope.SHOP, (), None,
                        StackingGroup.SHOP, total, 1, None, None, 7, None, None, hidden)


async def stored(adapters: Adapters, shop: int, template_id: int):
    [found] = await adapters.coupons.templates_by_id(shop, [template_id])
    return found


async def test_before_any_claim_everything_but_the_code_may_change(adapters: Adapters, panda: int):
    # given a template nobody claimed
    made = await adapters.coupons.create_template(panda, spec())
    # when its worth changes
    new = replace(made.spec, kind=CouponKind.PERCENT_OFF, discount=None, percent_off=10, threshold=0,
                  stacking_group=StackingGroup.PLATFORM)
    changed = await adapters.coupons.update_template(panda, made.id, made.spec, new)
    # then it is stored as given
    assert changed is not None and changed.spec == new
    assert (await stored(adapters, panda, made.id)).spec == new


async def test_once_issued_a_coupon_keeps_its_worth_and_the_stock_its_floor(adapters: Adapters, panda: int):
    # given a template of 3 with 2 issued
    made = await adapters.coupons.create_template(panda, spec())
    for shopper in (1, 2):
        await adapters.coupons.claim(panda, made.id, shopper, NOW, Source.CLAIM)
    # when its discount, scope and stacking change and its quantity falls below what was issued
    worse = replace(made.spec, discount=500, scope=Scope.CATEGORY, category_id=1,
                    stacking_group=StackingGroup.PLATFORM, total_quantity=1)
    with pytest.raises(RevisionRefused) as refused:
        await adapters.coupons.update_template(panda, made.id, made.spec, worse)
    # then each is refused at its field, and nothing is written
    assert sorted((f, c) for f, c, _ in refused.value.problems) == [
        ("categoryHandle", "INVALID_STATE"), ("discount", "INVALID_STATE"), ("scope", "INVALID_STATE"),
        ("stackingGroup", "INVALID_STATE"), ("totalQuantity", "INVALID")]
    assert (await stored(adapters, panda, made.id)).spec == made.spec
    # the name, the window and the quantity down to what was issued may change
    later = NOW + timedelta(days=3)
    fine = replace(made.spec, title="renamed", claim_ends_at=later, total_quantity=2)
    changed = await adapters.coupons.update_template(panda, made.id, made.spec, fine)
    assert changed is not None and (changed.spec.title, changed.remaining) == ("renamed", 0)
    assert made.id not in {t.id for t in await adapters.coupons.claimable(panda, NOW)}
    # and up again: claimable again
    more = replace(fine, total_quantity=10)
    assert (await adapters.coupons.update_template(panda, made.id, fine, more)).remaining == 8
    assert made.id in {t.id for t in await adapters.coupons.claimable(panda, NOW)}


async def test_a_revision_from_a_stale_read_or_of_another_shop_changes_nothing(adapters: Adapters, panda: int):
    made = await adapters.coupons.create_template(panda, spec())
    first = replace(made.spec, title="first")
    await adapters.coupons.update_template(panda, made.id, made.spec, first)
    with pytest.raises(TemplateChanged):
        await adapters.coupons.update_template(panda, made.id, made.spec, replace(made.spec, title="second"))
    assert await adapters.coupons.update_template(panda + 999, made.id, first, made.spec) is None
    assert await adapters.coupons.disable_template(panda + 999, made.id, NOW) is None
    assert (await stored(adapters, panda, made.id)).spec.title == "first"
    assert (await stored(adapters, panda, made.id)).disabled_at is None


async def test_a_disabled_template_issues_nothing_and_its_coupons_stay_usable(adapters: Adapters, panda: int):
    # given a claimed coupon of a template
    made = await adapters.coupons.create_template(panda, spec())
    held = await adapters.coupons.claim(panda, made.id, 1, NOW, Source.CLAIM)
    # when the template is disabled, twice
    disabled = await adapters.coupons.disable_template(panda, made.id, NOW)
    again = await adapters.coupons.disable_template(panda, made.id, NOW + timedelta(hours=1))
    # then it keeps the first time, claims and grants are refused, and it is claimable no more
    assert disabled is not None and again is not None and disabled.disabled_at == again.disabled_at == NOW
    for source in (Source.CLAIM, Source.GRANT):
        with pytest.raises(Disabled) as refused:
            await adapters.coupons.claim(panda, made.id, 2, NOW, source)
        assert refused.value.code == "COUPON_EXPIRED"
    assert (await stored(adapters, panda, made.id)).issued == 1
    assert made.id not in {t.id for t in await adapters.coupons.claimable(panda, NOW)}
    # the coupon held is still used at checkout until its own expiry
    await adapters.coupons.lock(panda, 1, [held.id], "o-1", NOW)
    assert await adapters.coupons.redeem(panda, "o-1") == 1


async def test_a_reimport_leaves_a_disabled_template_disabled(adapters: Adapters, panda: int):
    [welcome] = await adapters.coupons.templates_by_code(panda, ["WELCOME-20"])
    await adapters.coupons.disable_template(panda, welcome.id, NOW)
    [panda_file] = [p for p in demo_files() if "panda" in p.name]
    await adapters.catalog.apply(parse_catalog(load_json(panda_file), NOW), NOW)
    assert (await stored(adapters, panda, welcome.id)).disabled_at == NOW


async def campaign_of(adapters: Adapters, shop: int, reward: int, required: int = 2) -> tuple:
    made = CampaignSpec("LIFE-C", "life", required, reward, None, False, False, 3,
                        NOW - timedelta(days=1), NOW + timedelta(days=1))
    return await adapters.members.create_campaign(shop, made), made


async def test_a_disabled_reward_ends_assists_as_a_sold_out_one(adapters: Adapters, panda: int):
    reward = await adapters.coupons.create_template(panda, spec(hidden=True))
    campaign, _ = await campaign_of(adapters, panda, reward.id, required=1)
    assist = await adapters.members.start_assist(panda, campaign.id, 1, NOW)
    await adapters.coupons.disable_template(panda, reward.id, NOW)
    done = await adapters.members.help_assist(panda, assist.id, 2, NOW)
    assert (done.state, done.coupon_id) == (AssistState.SOLD_OUT, None)
    assert (await stored(adapters, panda, reward.id)).issued == 0


async def test_before_any_assist_a_campaign_may_change_all_it_holds(adapters: Adapters, panda: int):
    reward = await adapters.coupons.create_template(panda, spec(hidden=True))
    other = await adapters.coupons.create_template(panda, spec("OTHER", hidden=True))
    campaign, made = await campaign_of(adapters, panda, reward.id)
    new = replace(made, reward_template_id=other.id, assister_template_id=reward.id, starts_at=NOW,
                  ends_at=NOW + timedelta(hours=1), required_assists=5)
    changed = await adapters.members.update_campaign(panda, campaign.id, made, new)
    assert changed is not None and changed.spec == new
    [seen] = await adapters.members.campaigns_by_id(panda, [campaign.id])
    assert seen.spec == new
    with pytest.raises(CampaignChanged):
        await adapters.members.update_campaign(panda, campaign.id, made, replace(made, title="stale"))
    assert await adapters.members.update_campaign(panda + 999, campaign.id, new, made) is None


async def test_started_assists_keep_what_they_rely_on(adapters: Adapters, panda: int):
    # given a campaign needing 2 helps with one assist started
    reward = await adapters.coupons.create_template(panda, spec(hidden=True))
    other = await adapters.coupons.create_template(panda, spec("OTHER", hidden=True))
    campaign, made = await campaign_of(adapters, panda, reward.id, required=2)
    first = await adapters.members.start_assist(panda, campaign.id, 1, NOW)
    # when the reward, the start and an earlier end are asked for
    with pytest.raises(CampaignRevisionRefused) as refused:
        await adapters.members.update_campaign(panda, campaign.id, made, replace(
            made, reward_template_id=other.id, starts_at=made.starts_at - timedelta(hours=1),
            ends_at=made.ends_at - timedelta(hours=1)))
    # then each is refused at its field, and nothing is written
    assert sorted((f, c) for f, c, _ in refused.value.problems) == [
        ("endsAt", "INVALID_STATE"), ("rewardTemplateCode", "INVALID_STATE"), ("startsAt", "INVALID_STATE")]
    assert (await adapters.members.campaigns_by_id(panda, [campaign.id]))[0].spec == made
    # the assists needed change for assists started after, a later end and the name for all
    new = replace(made, title="renamed", required_assists=1, ends_at=made.ends_at + timedelta(days=1))
    assert (await adapters.members.update_campaign(panda, campaign.id, made, new)).spec == new
    second = await adapters.members.start_assist(panda, campaign.id, 2, NOW)
    assert (first.required, second.required) == (2, 1)
    assert (await adapters.members.help_assist(panda, first.id, 3, NOW)).state is AssistState.OPEN
    assert (await adapters.members.help_assist(panda, second.id, 3, NOW)).state is AssistState.GRANTED


async def test_an_ended_campaign_starts_and_counts_nothing_and_keeps_its_grants(adapters: Adapters, panda: int):
    # given a campaign with one assist granted and one open
    reward = await adapters.coupons.create_template(panda, spec(hidden=True))
    campaign, _ = await campaign_of(adapters, panda, reward.id, required=1)
    granted = await adapters.members.start_assist(panda, campaign.id, 1, NOW)
    granted = await adapters.members.help_assist(panda, granted.id, 9, NOW)
    open_one = await adapters.members.start_assist(panda, campaign.id, 2, NOW)
    # when it is ended, twice
    ended = await adapters.members.end_campaign(panda, campaign.id, NOW)
    again = await adapters.members.end_campaign(panda, campaign.id, NOW + timedelta(hours=1))
    assert ended is not None and again is not None and ended.ended_at == again.ended_at == NOW
    assert await adapters.members.end_campaign(panda + 999, campaign.id, NOW) is None
    # then nobody starts or helps, the open assist shows expired, and the granted coupon stays
    for attempt in (adapters.members.start_assist(panda, campaign.id, 3, NOW),
                    adapters.members.help_assist(panda, open_one.id, 9, NOW)):
        with pytest.raises(AssistError) as refused:
            await attempt
        assert refused.value.code == "CAMPAIGN_NOT_ACTIVE"
    [shown] = await adapters.members.assists_by_id(panda, [open_one.id], NOW)
    assert shown.state is AssistState.EXPIRED
    [kept] = await adapters.members.assists_by_id(panda, [granted.id], NOW)
    assert kept.state is AssistState.GRANTED
    assert [c.id for c in await adapters.coupons.coupons_of(panda, 1, NOW)] == [granted.coupon_id]


async def test_an_import_keeps_to_the_history_rules_as_the_updates_do(adapters: Adapters, panda: int):
    # given Panda's file, two WELCOME-20 coupons claimed and an assist started on its campaign
    [welcome] = await adapters.coupons.templates_by_code(panda, ["WELCOME-20"])
    [campaign] = await adapters.members.campaigns_by_code(panda, ["PANDA-ASSIST-50"])
    assert welcome is not None and campaign is not None
    for shopper in (1, 2):
        await adapters.coupons.claim(panda, welcome.id, shopper, NOW, Source.CLAIM)
    await adapters.members.follow(panda, 1)
    await adapters.members.join(panda, 1)
    await adapters.members.start_assist(panda, campaign.id, 1, NOW)
    [panda_file] = [p for p in demo_files() if p.stem == "panda"]
    data = load_json(panda_file)
    at = next(n for n, c in enumerate(data["coupons"]) if c["code"] == "WELCOME-20")
    title = data["products"][0]["title"]
    # when a re-import changes what the coupon issued is worth, issues fewer than were claimed,
    # and gives the started campaign another reward (and retitles a product beside them)
    data["coupons"][at] |= {"discount": 3000, "totalQuantity": 1}
    data["campaigns"][0]["rewardTemplateCode"] = "WELCOME-20"
    data["products"][0]["title"] = "changed"
    with pytest.raises(CatalogConflict) as refused:
        await adapters.catalog.apply(parse_catalog(data, NOW), NOW)
    # then each is refused at its place, with the reason the update mutations give, and nothing is written
    assert {path for path, _ in refused.value.problems} == {
        f"coupons[{at}].discount", f"coupons[{at}].totalQuantity", "campaigns[0].rewardTemplateCode"}
    assert "2 coupons were issued already" in str(refused.value)
    assert "assists have started" in str(refused.value)
    [same] = await adapters.coupons.templates_by_code(panda, ["WELCOME-20"])
    assert same is not None and (same.spec, same.issued) == (welcome.spec, 2)
    [kept] = await adapters.members.campaigns_by_code(panda, ["PANDA-ASSIST-50"])
    assert kept is not None and kept.spec == campaign.spec
    [product] = await adapters.goods.products_by_handle(panda, [data["products"][0]["handle"]])
    assert product is not None and product.title == title
    # when it changes only what the history allows: more coupons, another title, a later end
    data = load_json(panda_file)
    data["coupons"][at] |= {"totalQuantity": 20000, "title": "满 199 减 20 (more)"}
    data["campaigns"][0]["endsAt"] = (NOW + timedelta(days=60)).isoformat()
    await adapters.catalog.apply(parse_catalog(data, NOW), NOW)
    [more] = await adapters.coupons.templates_by_code(panda, ["WELCOME-20"])
    assert more is not None and (more.spec.total_quantity, more.spec.title, more.issued) == (20000, "满 199 减 20 (more)", 2)
    [later] = await adapters.members.campaigns_by_code(panda, ["PANDA-ASSIST-50"])
    assert later is not None and later.spec.ends_at > campaign.spec.ends_at
