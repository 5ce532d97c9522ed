"""The Panda Care story over GraphQL: 50 friends' help earns the big coupon, once."""

from __future__ import annotations

from tests.conftest import Gql, codes

LOGIN = 'mutation($c: String!) { shopperLogin(code: $c) { token } }'
START = """mutation { assistStart(campaignCode: "PANDA-ASSIST-50") {
  assist { id state assistCount requiredAssists coupon { id } }
  userErrors { code field message }
} }"""
HELP = """mutation($id: ID!) { assistHelp(assistId: $id) {
  assist { state assistCount coupon { id state template { code } } }
  userErrors { code message }
} }"""
ME = """{ me { following member assists { id state }
  coupons { state template { code discount { amount } threshold { amount } } } } }"""


async def token(gql: Gql, name: str) -> str:
    return (await gql(LOGIN, {"c": f"dev:{name}"}))["data"]["shopperLogin"]["token"]


async def test_the_whole_panda_assist_story(gql: Gql):
    # given the campaign, whose rules say what it takes, in Chinese
    campaign = (await gql('{ campaign(code: "PANDA-ASSIST-50") { requiredAssists rules '
                          "reward { code } assisterReward { code } } }"))["data"]["campaign"]
    assert campaign["requiredAssists"] == 50 and campaign["reward"]["code"] == "BIG-A"
    assert "50 位好友" in campaign["rules"] and "关注店铺" in campaign["rules"] and "成为会员" in campaign["rules"]
    assert "试用装免单券" in campaign["rules"] and "每天最多助力 3 次" in campaign["rules"]
    mum = await token(gql, "mum")

    # when she starts before following and joining, she is told what is missing
    refused = (await gql(START, token=mum))["data"]["assistStart"]
    assert [e["code"] for e in refused["userErrors"]] == ["PREREQUISITE_NOT_MET"]
    assert (await gql("mutation { shopFollow { shopper { following member } } }", token=mum))["data"][
        "shopFollow"]["shopper"] == {"following": True, "member": False}
    assert [e["code"] for e in (await gql(START, token=mum))["data"]["assistStart"]["userErrors"]] == [
        "PREREQUISITE_NOT_MET"]
    await gql("mutation { membershipJoin { shopper { member } } }", token=mum)
    started = (await gql(START, token=mum))["data"]["assistStart"]
    assert started["userErrors"] == []
    assist = started["assist"]
    assert (assist["state"], assist["assistCount"], assist["requiredAssists"]) == ("OPEN", 0, 50)
    assert (await gql(START, token=mum))["data"]["assistStart"]["assist"]["id"] == assist["id"], "one per campaign"

    # she cannot help herself
    self_help = (await gql(HELP, {"id": assist["id"]}, token=mum))["data"]["assistHelp"]
    assert [e["code"] for e in self_help["userErrors"]] == ["SELF_ASSIST"]

    # 50 distinct friends help; the 50th completes it and BIG-A is granted
    friends = [await token(gql, f"friend-{i}") for i in range(51)]
    for n, friend in enumerate(friends[:50], start=1):
        helped = (await gql(HELP, {"id": assist["id"]}, token=friend))["data"]["assistHelp"]
        assert helped["userErrors"] == [] and helped["assist"]["assistCount"] == n
    done = helped["assist"]
    assert done["state"] == "GRANTED" and done["coupon"]["template"]["code"] == "BIG-A"
    assert done["coupon"]["state"] == "AVAILABLE"

    # a friend cannot help twice, and a 51st finds it complete
    again = (await gql(HELP, {"id": assist["id"]}, token=friends[0]))["data"]["assistHelp"]
    late = (await gql(HELP, {"id": assist["id"]}, token=friends[50]))["data"]["assistHelp"]
    assert [e["code"] for e in again["userErrors"]] == ["ASSIST_COMPLETED"]
    assert [e["code"] for e in late["userErrors"]] == ["ASSIST_COMPLETED"]

    # mum holds exactly one BIG-A (150 off 299), usable; each helper one free sample
    me = (await gql(ME, token=mum))["data"]["me"]
    assert me["following"] and me["member"] and me["assists"] == [{"id": assist["id"], "state": "GRANTED"}]
    assert [(c["template"]["code"], c["state"], c["template"]["discount"]["amount"], c["template"]["threshold"]["amount"])
            for c in me["coupons"]] == [("BIG-A", "AVAILABLE", "150.00", "299.00")]
    helper = (await gql(ME, token=friends[7]))["data"]["me"]
    assert [c["template"]["code"] for c in helper["coupons"]] == ["SAMPLE-FREE"]
    node = "query($id: ID!) { node(id: $id) { ... on Assist { assistCount state } } }"
    counts = (await gql(node, {"id": assist["id"]}))["data"]["node"]
    assert counts == {"assistCount": 50, "state": "GRANTED"}


async def test_a_helper_helps_three_times_a_day_and_gets_one_sample(gql: Gql):
    # given four mothers with assists
    assists = []
    for name in ("a", "b", "c", "d"):
        t = await token(gql, f"mother-{name}")
        await gql("mutation { shopFollow { shopper { id } } }", token=t)
        await gql("mutation { membershipJoin { shopper { id } } }", token=t)
        assists.append((await gql(START, token=t))["data"]["assistStart"]["assist"]["id"])
    auntie = await token(gql, "auntie")
    # when the same friend helps all four today
    answers = [(await gql(HELP, {"id": a}, token=auntie))["data"]["assistHelp"] for a in assists]
    # then the fourth is over the daily limit, and she holds one free sample
    assert [a["userErrors"] for a in answers[:3]] == [[], [], []]
    assert [e["code"] for e in answers[3]["userErrors"]] == ["ASSIST_DAILY_LIMIT"]
    coupons = (await gql("{ me { coupons { template { code } } } }", token=auntie))["data"]["me"]["coupons"]
    assert coupons == [{"template": {"code": "SAMPLE-FREE"}}]


async def test_assist_mutations_need_a_signed_in_shopper(gql: Gql):
    assert codes(await gql(START)) == ["UNAUTHENTICATED"]
    assert codes(await gql("mutation { shopFollow { shopper { id } } }")) == ["UNAUTHENTICATED"]
    unknown = (await gql('mutation { assistHelp(assistId: "gid://jimu/Assist/999999") { userErrors { code } } }',
                         token=await token(gql, "x")))["data"]["assistHelp"]
    assert unknown["userErrors"] == [{"code": "NOT_FOUND"}]
