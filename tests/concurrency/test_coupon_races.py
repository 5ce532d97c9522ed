"""Claims never over-issue and an assist grants once, whatever the processes do."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from adapters.coupons.port import CouponKind, Scope, StackingGroup, TemplateSpec
from adapters.db import utcnow
from adapters.members.port import AssistState
from adapters.shops.rules import hash_key
from gateway.wiring import Adapters
from tests.concurrency.test_inventory_races import PROCESSES, run_all


def spec(code: str, total: int, limit: int = 1) -> TemplateSpec:
    return TemplateSpec(code, code, CouponKind.AMOUNT_OFF, 29_900, 15_000, None, Scope.SHOP, (), None,
                        StackingGroup.SHOP, total, limit, None, None, 7, None, None, False)


async def panda(demo: Adapters) -> int:
    found = await demo.shops.shop_for_key(hash_key("pk_demo_panda"))
    return found[0].id


async def test_six_hundred_shoppers_get_exactly_two_hundred_coupons(database_url: str, demo: Adapters):
    # given a template of 200
    shop_id = await panda(demo)
    template = await demo.coupons.create_template(shop_id, spec("RUSH-200", total=200))
    shoppers = list(range(1000, 1600))
    # when 600 shoppers claim at once from 4 processes
    results = run_all([("claim", (database_url, shop_id, template.id, shoppers[i::PROCESSES]))
                       for i in range(PROCESSES)])
    # then exactly 200 are issued, to 200 different shoppers, and the rest are told it is sold out
    outcomes = [pair for batch in results for pair in batch]
    assert Counter(o for _, o in outcomes) == {"claimed": 200, "COUPON_SOLD_OUT": 400}
    winners = [s for s, o in outcomes if o == "claimed"]
    assert len(set(winners)) == 200
    [after] = await demo.coupons.templates_by_id(shop_id, [template.id])
    assert (after.issued, after.remaining) == (200, 0)
    held = [c for s in winners for c in await demo.coupons.coupons_of(shop_id, s, utcnow())]
    assert len(held) == 200


async def test_lowering_the_total_while_shoppers_claim_never_leaves_more_issued_than_total(
    database_url: str, demo: Adapters
):
    # given a template of 400
    shop_id = await panda(demo)
    template = await demo.coupons.create_template(shop_id, spec("SHRINK", total=400))
    shoppers = list(range(3000, 3600))
    # when 600 shoppers claim from 3 processes while a fourth lowers the total by 20s down to 100
    totals = list(range(380, 99, -20))
    results = run_all([("claim", (database_url, shop_id, template.id, shoppers[i::3])) for i in range(3)]
                      + [("lower_total", (database_url, shop_id, template.id, totals))])
    [lowering] = [r[1] for r in results if r[0] == "lower"]
    outcomes = [pair for batch in results if batch[0] != "lower" for pair in batch]
    # then the total ends at the last value allowed, at least what was issued, and every claim told
    # is a coupon held
    [after] = await demo.coupons.templates_by_id(shop_id, [template.id])
    claimed = [s for s, o in outcomes if o == "claimed"]
    assert {o for _, o in outcomes} <= {"claimed", "COUPON_SOLD_OUT"}
    assert after.issued == len(claimed) <= after.spec.total_quantity
    last = [total for step, total in lowering if step == "lowered"]
    assert after.spec.total_quantity == (last[-1] if last else 400)
    # a lowering refused was below what had been issued by then (which only grows), so every
    # later, lower one was refused too
    steps = [step for step, _ in lowering]
    assert len(steps) == len(totals) and steps == sorted(steps)  # "lowered"s, then "refused"s
    assert all(total < after.issued for step, total in lowering if step == "refused")
    held = [c for s in claimed for c in await demo.coupons.coupons_of(shop_id, s, utcnow())]
    assert len(held) == after.issued


async def test_one_shopper_sending_twenty_claims_gets_one_coupon(database_url: str, demo: Adapters):
    shop_id = await panda(demo)
    template = await demo.coupons.create_template(shop_id, spec("ONE-EACH", total=100, limit=1))
    same = [77] * 20
    results = run_all([("claim", (database_url, shop_id, template.id, same[i::PROCESSES])) for i in range(PROCESSES)])
    assert Counter(o for batch in results for _, o in batch) == {"claimed": 1, "COUPON_LIMIT_REACHED": 19}
    assert len(await demo.coupons.coupons_of(shop_id, 77, utcnow())) == 1


async def test_sixty_helpers_on_an_assist_needing_fifty_grant_once(database_url: str, demo: Adapters):
    # given an open assist of PANDA-ASSIST-50
    shop_id = await panda(demo)
    [campaign] = await demo.members.campaigns_by_code(shop_id, ["PANDA-ASSIST-50"])
    await demo.members.follow(shop_id, 1)
    await demo.members.join(shop_id, 1)
    assist = await demo.members.start_assist(shop_id, campaign.id, 1, utcnow())
    helpers = list(range(2000, 2060))
    # when 60 friends help at once from 4 processes
    results = run_all([("help", (database_url, shop_id, assist.id, helpers[i::PROCESSES])) for i in range(PROCESSES)])
    # then the count stops at 50, the reward is granted once, and ten are told it is complete
    assert Counter(o for batch in results for o in batch) == {"helped": 50, "ASSIST_COMPLETED": 10}
    [done] = await demo.members.assists_by_id(shop_id, [assist.id], utcnow() + timedelta(seconds=1))
    assert (done.count, done.state) == (50, AssistState.GRANTED)
    [big] = await demo.coupons.templates_by_id(shop_id, [campaign.spec.reward_template_id])
    assert big.issued == 1
    assert len(await demo.coupons.coupons_of(shop_id, 1, utcnow())) == 1
    [sample] = await demo.coupons.templates_by_id(shop_id, [campaign.spec.assister_template_id])
    assert sample.issued == 50, "each of the 50 helpers got a free sample, the 10 late ones none"
