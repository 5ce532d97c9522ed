"""The merchant changes and disables coupon templates, changes and ends campaigns, over HTTP."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.settings import Settings
from gateway.wiring import Adapters
from tests.api.test_coupons_api import CAMPAIGN, CLAIM, sign_in
from tests.conftest import Gql, api_client, codes, make_gql

SK = "sk_demo_panda"
TEMPLATE = "id code title kind discount { amount } percentOff scope totalQuantity remainingQuantity disabledAt"
UPDATE = """mutation($id: ID!, $input: CouponTemplateUpdateInput!) { couponTemplateUpdate(id: $id, input: $input) {
  template { %s } userErrors { code field message } } }""" % TEMPLATE
DISABLE = """mutation($id: ID!) { couponTemplateDisable(id: $id) {
  template { %s } userErrors { code field message } } }""" % TEMPLATE
CAMPAIGN_FIELDS = "id title requiredAssists startsAt endsAt endedAt reward { code }"
CAMPAIGN_UPDATE = """mutation($id: ID!, $input: AssistCampaignUpdateInput!) {
  assistCampaignUpdate(id: $id, input: $input) { campaign { %s } userErrors { code field message } } }""" % CAMPAIGN_FIELDS
CAMPAIGN_END = """mutation($id: ID!) { assistCampaignEnd(id: $id) {
  campaign { %s } userErrors { code field message } } }""" % CAMPAIGN_FIELDS
NEW = """mutation($input: CouponTemplateInput!) { couponTemplateCreate(input: $input) { template { id } } }"""


async def new_template(gql: Gql, code: str = "LIFE-10", **changes) -> str:
    given = {"code": code, "title": "满 100 减 10", "kind": "AMOUNT_OFF", "threshold": "100", "discount": "10.00",
             "totalQuantity": 3, "validDays": 7, **changes}
    return (await gql(NEW, {"input": given}, key=SK))["data"]["couponTemplateCreate"]["template"]["id"]


async def update(gql: Gql, template_id: str, key: str = SK, **given) -> dict:
    return (await gql(UPDATE, {"id": template_id, "input": given}, key=key))["data"]["couponTemplateUpdate"]


async def claim(gql: Gql, template_id: str, shopper: str) -> dict:
    return (await gql(CLAIM, {"id": template_id}, token=await sign_in(gql, shopper)))["data"]["couponClaim"]


async def test_before_any_claim_a_template_may_change_what_it_is_worth(gql: Gql):
    made = await new_template(gql)
    changed = await update(gql, made, kind="PERCENT_OFF", discount=None, percentOff=15, title="85 折")
    assert changed["userErrors"] == []
    assert {k: changed["template"][k] for k in ("code", "title", "kind", "discount", "percentOff")} == {
        "code": "LIFE-10", "title": "85 折", "kind": "PERCENT_OFF", "discount": None, "percentOff": 15}


async def test_once_claimed_its_worth_is_fixed_and_its_stock_never_below_what_was_issued(gql: Gql):
    # given a template of 3 with 2 claimed
    made = await new_template(gql)
    for shopper in ("a", "b"):
        assert (await claim(gql, made, shopper))["userErrors"] == []
    # when its discount and scope change with its title, and its quantity falls to 1
    refused = await update(gql, made, title="cheaper", discount="5", scope="SKUS", skuCodes=["DIAPER-L54"],
                           totalQuantity=1)
    # then each is refused at its field and nothing is written
    assert refused["template"] is None
    assert sorted((e["code"], e["field"]) for e in refused["userErrors"]) == [
        ("INVALID", ["input", "totalQuantity"]), ("INVALID_STATE", ["input", "discount"]),
        ("INVALID_STATE", ["input", "scope"]), ("INVALID_STATE", ["input", "skuCodes"])]
    # and the name, the window and the quantity down to what was issued go through
    fine = await update(gql, made, title="renamed", claimEndsAt="2030-01-01T00:00:00+08:00", totalQuantity=2,
                        discount="10")  # the same discount again is no change
    assert fine["userErrors"] == []
    assert (fine["template"]["title"], fine["template"]["discount"], fine["template"]["remainingQuantity"]) == (
        "renamed", {"amount": "10.00"}, 0)
    assert (await claim(gql, made, "c"))["userErrors"][0]["code"] == "COUPON_SOLD_OUT"
    # raised again, it is claimable again
    assert (await update(gql, made, totalQuantity=5))["template"]["remainingQuantity"] == 3
    assert (await claim(gql, made, "c"))["userErrors"] == []


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"discount": "0"}, ["input", "discount"]),
        ({"discount": "9.999"}, ["input", "discount"]),
        ({"kind": "PERCENT_OFF"}, ["input", "discount"]),  # the stored discount must be cleared for it
        ({"kind": "PERCENT_OFF", "discount": None}, ["input", "percentOff"]),
        ({"totalQuantity": 0}, ["input", "totalQuantity"]),
        ({"validDays": None}, ["input", "validDays"]),
        ({"claimStartsAt": "2026-12-02T00:00:00+08:00", "claimEndsAt": "2026-12-01T00:00:00+08:00"},
         ["input", "claimEndsAt"]),
        ({"scope": "SKUS"}, ["input", "skuCodes"]),
        ({"scope": "SKUS", "skuCodes": ["DIAPER-L54", "NOPE"]}, ["input", "skuCodes", "1"]),
        ({"scope": "CATEGORY", "categoryHandle": "watches"}, ["input", "categoryHandle"]),
        ({"title": None}, ["input", "title"]),
        ({"title": " "}, ["input", "title"]),
        ({"totalQuantity": None}, ["input", "totalQuantity"]),
    ],
)
async def test_a_change_is_checked_as_a_new_template_is(gql: Gql, given: dict, field: list[str]):
    made = await new_template(gql)
    refused = await update(gql, made, **given)
    assert refused["template"] is None and field in [e["field"] for e in refused["userErrors"]]
    assert (await update(gql, made))["template"]["discount"] == {"amount": "10.00"}, "nothing was written"


async def test_ids_that_are_not_the_shops_templates_and_keys_that_are_not_secret(gql: Gql):
    made = await new_template(gql)
    for mutation, name, variables in ((UPDATE, "couponTemplateUpdate", {"input": {"title": "x"}}),
                                      (DISABLE, "couponTemplateDisable", {})):
        malformed = (await gql(mutation, {"id": "gid://jimu/Product/1", **variables}, key=SK))["data"][name]
        assert [(e["code"], e["field"]) for e in malformed["userErrors"]] == [("INVALID", ["id"])]
        theirs = (await gql(mutation, {"id": made, **variables}, key="sk_demo_aurelian"))["data"][name]
        assert [(e["code"], e["field"]) for e in theirs["userErrors"]] == [("NOT_FOUND", ["id"])]
        assert codes(await gql(mutation, {"id": made, **variables}, key="pk_demo_panda")) == ["FORBIDDEN"]
    kept = (await update(gql, made))["template"]
    assert (kept["title"], kept["disabledAt"]) == ("满 100 减 10", None), "nothing was written"


async def test_a_disabled_template_is_claimed_no_more_and_its_coupons_stay(gql: Gql):
    # given a public template with a coupon held
    made = await new_template(gql, totalQuantity=10)
    held = (await claim(gql, made, "holder"))["coupon"]
    listed = '{ product(handle: "wipes-80") { coupons { code } } }'
    assert "LIFE-10" in [c["code"] for c in (await gql(listed))["data"]["product"]["coupons"]]
    # when the merchant disables it, twice
    first = (await gql(DISABLE, {"id": made}, key=SK))["data"]["couponTemplateDisable"]
    again = (await gql(DISABLE, {"id": made}, key=SK))["data"]["couponTemplateDisable"]
    # then it keeps the first time, claims are refused, it is listed no more, and the coupon held stays
    assert first["userErrors"] == again["userErrors"] == [] and first["template"]["disabledAt"] is not None
    assert again["template"]["disabledAt"] == first["template"]["disabledAt"]
    assert [e["code"] for e in (await claim(gql, made, "late"))["userErrors"]] == ["COUPON_EXPIRED"]
    assert "LIFE-10" not in [c["code"] for c in (await gql(listed))["data"]["product"]["coupons"]]
    mine = (await gql("{ me { coupons { id state template { disabledAt } } } }", token=await sign_in(gql, "holder")))
    assert [(c["id"], c["state"]) for c in mine["data"]["me"]["coupons"]] == [(held["id"], "AVAILABLE")]


async def test_a_campaign_cannot_be_made_or_changed_to_reward_a_disabled_template(gql: Gql):
    made = await new_template(gql, code="GONE", hidden=True)
    await gql(DISABLE, {"id": made}, key=SK)
    base = {"code": "SPRING", "title": "春季助力", "requiredAssists": 2, "rewardTemplateCode": "GONE",
            "startsAt": "2026-01-01T00:00:00+08:00", "endsAt": "2030-01-01T00:00:00+08:00"}
    refused = (await gql(CAMPAIGN, {"input": base}, key=SK))["data"]["assistCampaignCreate"]
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("INVALID_STATE", ["input", "rewardTemplateCode"])]
    [campaign] = await campaign_ids(gql)
    changed = (await gql(CAMPAIGN_UPDATE, {"id": campaign, "input": {"assisterRewardTemplateCode": "GONE"}},
                         key=SK))["data"]["assistCampaignUpdate"]
    assert [(e["code"], e["field"]) for e in changed["userErrors"]] == [
        ("INVALID_STATE", ["input", "assisterRewardTemplateCode"])]


async def campaign_ids(gql: Gql) -> list[str]:
    return [(await gql('{ campaign(code: "PANDA-ASSIST-50") { id } }'))["data"]["campaign"]["id"]]


async def start(gql: Gql, name: str) -> dict:
    t = await sign_in(gql, name)
    await gql("mutation { shopFollow { shopper { id } } }", token=t)
    await gql("mutation { membershipJoin { shopper { id } } }", token=t)
    return (await gql('mutation { assistStart(campaignCode: "PANDA-ASSIST-50") { assist { id requiredAssists } '
                      "userErrors { code } } }", token=t))["data"]["assistStart"]


async def test_a_campaign_changes_what_started_assists_do_not_rely_on(gql: Gql):
    [campaign] = await campaign_ids(gql)
    # before anyone starts, anything may change
    free = (await gql(CAMPAIGN_UPDATE, {"id": campaign, "input": {"requiredAssists": 3, "rewardTemplateCode": "WELCOME-20"}},
                      key=SK))["data"]["assistCampaignUpdate"]
    assert free["userErrors"] == [] and (free["campaign"]["requiredAssists"], free["campaign"]["reward"]["code"]) == (
        3, "WELCOME-20")
    first = (await start(gql, "first"))["assist"]
    # once one started: the reward, the start and an earlier end are refused, nothing written
    ends = free["campaign"]["endsAt"]
    refused = (await gql(CAMPAIGN_UPDATE, {"id": campaign, "input": {
        "title": "x", "rewardTemplateCode": "BIG-A", "startsAt": "2026-01-01T00:00:00+08:00",
        "endsAt": "2026-12-01T00:00:00+08:00"}}, key=SK))["data"]["assistCampaignUpdate"]
    assert sorted(tuple(e["field"]) for e in refused["userErrors"]) == [
        ("input", "endsAt"), ("input", "rewardTemplateCode"), ("input", "startsAt")]
    assert {e["code"] for e in refused["userErrors"]} == {"INVALID_STATE"}
    # the number of helps and a later end change, for assists started after
    later = (await gql(CAMPAIGN_UPDATE, {"id": campaign, "input": {"requiredAssists": 1, "title": "快来助力",
                                                                   "endsAt": "2031-01-01T00:00:00+08:00"}},
                       key=SK))["data"]["assistCampaignUpdate"]
    assert later["userErrors"] == [] and later["campaign"]["title"] == "快来助力" and later["campaign"]["endsAt"] != ends
    second = (await start(gql, "second"))["assist"]
    assert (first["requiredAssists"], second["requiredAssists"]) == (3, 1)
    # and the usual refusals: bad values, null where a value is needed, another shop's, a malformed id
    for given, field in (({"requiredAssists": 0}, "requiredAssists"), ({"title": None}, "title"),
                         ({"rewardTemplateCode": "NOPE"}, "rewardTemplateCode")):
        bad = (await gql(CAMPAIGN_UPDATE, {"id": campaign, "input": given}, key=SK))["data"]["assistCampaignUpdate"]
        assert ["input", field] in [e["field"] for e in bad["userErrors"]]
    theirs = (await gql(CAMPAIGN_UPDATE, {"id": campaign, "input": {}}, key="sk_demo_aurelian"))["data"]
    assert [e["code"] for e in theirs["assistCampaignUpdate"]["userErrors"]] == ["NOT_FOUND"]
    malformed = (await gql(CAMPAIGN_END, {"id": "nope"}, key=SK))["data"]["assistCampaignEnd"]
    assert [(e["code"], e["field"]) for e in malformed["userErrors"]] == [("INVALID", ["id"])]
    assert codes(await gql(CAMPAIGN_END, {"id": campaign}, key="pk_demo_panda")) == ["FORBIDDEN"]
    assert codes(await gql(CAMPAIGN_UPDATE, {"id": campaign, "input": {}}, key="pk_demo_panda")) == ["FORBIDDEN"]


async def test_an_ended_campaign_starts_and_counts_nothing(gql: Gql):
    [campaign] = await campaign_ids(gql)
    open_one = (await start(gql, "early"))["assist"]
    ended = (await gql(CAMPAIGN_END, {"id": campaign}, key=SK))["data"]["assistCampaignEnd"]
    again = (await gql(CAMPAIGN_END, {"id": campaign}, key=SK))["data"]["assistCampaignEnd"]
    assert ended["userErrors"] == [] and ended["campaign"]["endedAt"] is not None
    assert again["campaign"]["endedAt"] == ended["campaign"]["endedAt"]
    assert [e["code"] for e in (await start(gql, "late"))["userErrors"]] == ["CAMPAIGN_NOT_ACTIVE"]
    helped = (await gql('mutation($id: ID!) { assistHelp(assistId: $id) { userErrors { code } } }',
                        {"id": open_one["id"]}, token=await sign_in(gql, "friend")))["data"]["assistHelp"]
    assert helped["userErrors"] == [{"code": "CAMPAIGN_NOT_ACTIVE"}]
    shown = (await gql('query($id: ID!) { assist(id: $id) { state } }', {"id": open_one["id"]}))["data"]["assist"]
    assert shown == {"state": "EXPIRED"}


async def test_later_fields_of_the_same_request_see_the_change(gql: Gql):
    [campaign] = await campaign_ids(gql)
    [reward] = [(await gql('{ campaign(code: "PANDA-ASSIST-50") { reward { id } } }'))["data"]["campaign"]["reward"]["id"]]
    body = await gql("""mutation($c: ID!, $t: ID!) {
      before: assistCampaignUpdate(id: $c, input: {}) { campaign { reward { title } } }
      change: couponTemplateUpdate(id: $t, input: {title: "大额券"}) { userErrors { code } }
      retitle: assistCampaignUpdate(id: $c, input: {title: "新标题"}) { userErrors { code } }
      after: assistCampaignEnd(id: $c) { campaign { title reward { title } } }
    }""", {"c": campaign, "t": reward}, key=SK)
    assert body["data"]["before"]["campaign"]["reward"]["title"] != "大额券"
    assert body["data"]["after"]["campaign"] == {"title": "新标题", "reward": {"title": "大额券"}}


async def test_shoppers_see_a_change_at_once_through_the_caches(settings: Settings, demo: Adapters):
    async with api_client(replace(settings, response_cache_seconds=30, reference_cache_seconds=30), demo) as client:
        # given a product page cached with its coupons
        gql = make_gql(client)
        listed = '{ product(handle: "wipes-80") { coupons { id code title } } }'
        [welcome] = [c for c in (await gql(listed))["data"]["product"]["coupons"] if c["code"] == "WELCOME-20"]
        # when the merchant renames, then disables a coupon, the next reads show it
        assert (await update(gql, welcome["id"], title="新人礼"))["userErrors"] == []
        assert {**welcome, "title": "新人礼"} in (await gql(listed))["data"]["product"]["coupons"]
        await gql(DISABLE, {"id": welcome["id"]}, key=SK)
        assert "WELCOME-20" not in [c["code"] for c in (await gql(listed))["data"]["product"]["coupons"]]


async def test_each_time_a_template_runs_out_is_told_once(gql: Gql):
    from tests.webhooks.test_webhook_stories import DELIVERIES, SUBSCRIBE

    # given a merchant listening for COUPON_SOLD_OUT and a template of 1
    await gql(SUBSCRIBE, {"t": "COUPON_SOLD_OUT", "u": "http://127.0.0.1:9/sold-out", "s": None}, key=SK)
    made = await new_template(gql, totalQuantity=1)
    # when it sells out, is raised to 2 and sells out again, raised to 5, and lowered to the 3 issued
    await claim(gql, made, "one")
    await update(gql, made, totalQuantity=2)
    await claim(gql, made, "two")
    await update(gql, made, totalQuantity=5)
    await claim(gql, made, "three")
    assert (await update(gql, made, totalQuantity=3))["template"]["remainingQuantity"] == 0
    await update(gql, made, title="renamed")  # still none left: not told again
    # then each of the three times it ran out is one event
    deliveries = (await gql(DELIVERIES, {"s": None}, key=SK))["data"]["merchant"]["webhookDeliveries"]["nodes"]
    told = sorted(d["payload"]["couponTemplate"]["totalQuantity"] for d in deliveries if d["topic"] == "COUPON_SOLD_OUT")
    assert told == [1, 2, 3] and len({d["eventId"] for d in deliveries}) == 3
