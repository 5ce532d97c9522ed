"""Relay connections both ways: first/after and last/before give the same list, with
page info that says what lies on either side; me.coupons, me.assists and categories
have connections beside their lists."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from gateway.fastpath import Plan
from gateway.settings import Settings
from gateway.wiring import Adapters
from tests.conftest import Gql, api_client, codes, make_gql

KEY = {"X-Jimu-Key": "pk_demo_panda"}
LOGIN = 'mutation($c: String!) { shopperLogin(code: $c) { token } }'
PAGE = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } totalCount"
PRODUCTS = """query($first: Int, $after: String, $last: Int, $before: String) {
  products(first: $first, after: $after, last: $last, before: $before, sortKey: PRICE) { nodes { handle } %s } }""" % PAGE


async def token(gql: Gql, name: str) -> str:
    return (await gql(LOGIN, {"c": f"dev:{name}"}))["data"]["shopperLogin"]["token"]


async def walk(gql: Gql, query: str, path: tuple[str, ...], size: int, backwards: bool) -> list[Any]:
    """Every node of a connection, a page of ``size`` at a time, forwards or from the end."""
    seen: list[Any] = []
    cursor = None
    while True:
        variables = {"last": size, "before": cursor} if backwards else {"first": size, "after": cursor}
        answer = await gql(query, variables)
        assert "errors" not in answer, answer
        connection = answer["data"]
        for name in path:
            connection = connection[name]
        info, nodes = connection["pageInfo"], connection["nodes"]
        assert len(nodes) <= size
        assert [e["cursor"] for e in connection["edges"]][:1] == ([info["startCursor"]] if nodes else [])
        if backwards:
            assert info["hasNextPage"] == (cursor is not None)
            seen = nodes + seen
            if not info["hasPreviousPage"]:
                return seen
            cursor = info["startCursor"]
        else:
            assert info["hasPreviousPage"] == (cursor is not None)
            seen += nodes
            if not info["hasNextPage"]:
                return seen
            cursor = info["endCursor"]


@pytest.mark.parametrize("size", [1, 2, 3])
async def test_products_page_the_same_list_forwards_and_backwards(gql: Gql, size: int):
    everything = (await gql(PRODUCTS, {"first": 100}))["data"]["products"]
    assert everything["totalCount"] >= 3 and not everything["pageInfo"]["hasNextPage"]
    # twice each way: the second run goes by the compiled plan
    for _ in range(2):
        assert await walk(gql, PRODUCTS, ("products",), size, backwards=False) == everything["nodes"]
        assert await walk(gql, PRODUCTS, ("products",), size, backwards=True) == everything["nodes"]


async def test_last_alone_is_the_end_and_first_with_last_is_refused(gql: Gql):
    everything = (await gql(PRODUCTS, {"first": 100}))["data"]["products"]["nodes"]
    tail = (await gql("{ products(last: 2, sortKey: PRICE) { nodes { handle } pageInfo { hasPreviousPage } } }"))
    assert tail["data"]["products"]["nodes"] == everything[-2:] and tail["data"]["products"]["pageInfo"]["hasPreviousPage"]
    # a $first the request does not send is not given: the contract's default does not clash with last
    unsent = (await gql(PRODUCTS, {"last": 1}))["data"]["products"]["nodes"]
    assert unsent == everything[-1:]
    for query, variables, said in (
        ("{ products(first: 2, last: 2) { totalCount } }", None, "give first or last, not both"),
        (PRODUCTS, {"first": 2, "last": 2}, "give first or last, not both"),
        ("{ products(last: 0) { totalCount } }", None, "last must be between 1 and 100"),
        ("{ products(last: 101) { totalCount } }", None, "last must be between 1 and 100"),
        ('{ products(last: 1, before: "nope") { totalCount } }', None, "before: invalid cursor"),
    ):
        answer = await gql(query, variables)
        assert codes(answer) == ["BAD_USER_INPUT"] and answer["errors"][0]["message"] == said, answer


async def test_a_shoppers_coupons_and_assists_come_as_connections_too(gql: Gql):
    mum = await token(gql, "pager")
    templates = (await gql("{ products(first: 20) { nodes { coupons { id code } } } }"))["data"]["products"]["nodes"]
    claimable = {t["code"]: t["id"] for node in templates for t in node["coupons"]}
    for code in ("WELCOME-20", "WIPES-95", "WIPES-95", "PLAT-5"):
        claimed = (await gql('mutation($t: ID!) { couponClaim(templateId: $t) { userErrors { code } } }',
                             {"t": claimable[code]}, token=mum))["data"]["couponClaim"]
        assert claimed["userErrors"] == [], code
    listed = (await gql("{ me { coupons { id } } }", token=mum))["data"]["me"]["coupons"]
    assert len(listed) == 4
    query = """query($first: Int, $after: String, $last: Int, $before: String) { me {
      couponsConnection(first: $first, after: $after, last: $last, before: $before) { nodes { id } %s } } }""" % PAGE
    for backwards in (False, True):
        walked: list[Any] = []
        cursor = None
        while True:
            variables = {"last": 3, "before": cursor} if backwards else {"first": 3, "after": cursor}
            page = (await gql(query, variables, token=mum))["data"]["me"]["couponsConnection"]
            assert page["totalCount"] == 4
            walked = page["nodes"] + walked if backwards else walked + page["nodes"]
            more = page["pageInfo"]["hasPreviousPage" if backwards else "hasNextPage"]
            if not more:
                break
            cursor = page["pageInfo"]["startCursor" if backwards else "endCursor"]
        assert walked == listed
    for state, held in (("AVAILABLE", 4), ("REDEEMED", 0)):
        some = (await gql('query($s: CouponState) { me { couponsConnection(state: $s, first: 100) { totalCount } } }',
                          {"s": state}, token=mum))
        assert some["data"]["me"]["couponsConnection"]["totalCount"] == held
    # an assist started shows in both the list and the connection
    await gql("mutation { shopFollow { shopper { following } } }", token=mum)
    await gql("mutation { membershipJoin { shopper { member } } }", token=mum)
    started = (await gql('mutation { assistStart(campaignCode: "PANDA-ASSIST-50") { assist { id } } }',
                         token=mum))["data"]["assistStart"]["assist"]
    assists = (await gql("{ me { assists { id } assistsConnection(first: 5) { nodes { id } %s } } }" % PAGE,
                         token=mum))["data"]["me"]
    assert assists["assists"] == [started] and assists["assistsConnection"]["nodes"] == [started]
    assert assists["assistsConnection"]["pageInfo"]["hasNextPage"] is False


async def test_categories_have_a_connection_and_cursors_stay_in_their_own(gql: Gql):
    listed = (await gql("{ categories { handle } }"))["data"]["categories"]
    query = """query($first: Int, $after: String, $last: Int, $before: String) {
      categoriesConnection(first: $first, after: $after, last: $last, before: $before) { nodes { handle } %s } }""" % PAGE
    assert await walk(gql, query, ("categoriesConnection",), 1, backwards=False) == listed
    assert await walk(gql, query, ("categoriesConnection",), 2, backwards=True) == listed
    # a product's cursor is no category cursor
    product_cursor = (await gql("{ products(first: 1) { pageInfo { endCursor } } }"))["data"]["products"]["pageInfo"]
    answer = await gql(query, {"first": 1, "after": product_cursor["endCursor"]})
    assert codes(answer) == ["BAD_USER_INPUT"] and answer["errors"][0]["message"] == "after: invalid cursor"


async def test_paging_on_the_plan_answers_as_strawberry_does(settings: Settings, demo: Adapters, monkeypatch):
    # every way to page, each answered by the compiled plan, byte for byte the generic answer
    answered: list[bool] = []
    run = Plan.run

    async def counted(self: Plan, context: Any, variables: Any) -> Any:
        data = await run(self, context, variables)
        answered.append(data is not None)
        return data

    monkeypatch.setattr(Plan, "run", counted)
    async with api_client(replace(settings, fast_path=False), demo) as generic:
        everything = (await make_gql(generic)(PRODUCTS, {"first": 100}))["data"]["products"]["edges"]
        cursors = [e["cursor"] for e in everything]
        asked = [{"last": 2}, {"first": None, "last": 1}, {"first": 1, "after": cursors[0]},
                 {"after": cursors[0], "before": cursors[-1]}, {"last": 1, "after": cursors[0], "before": cursors[-1]},
                 {"last": 3, "before": cursors[-1]}]
        expected = [(await generic.post("/graphql", json={"query": PRODUCTS, "variables": v}, headers=KEY)).content
                    for v in asked]
    assert answered == []
    async with api_client(settings, demo) as fast:
        await fast.post("/graphql", json={"query": PRODUCTS, "variables": {"first": 100}}, headers=KEY)  # learned
        got = [(await fast.post("/graphql", json={"query": PRODUCTS, "variables": v}, headers=KEY)).content
               for v in asked]
    assert answered == [True] * len(asked)
    assert got == expected
    assert all(b'"errors"' not in body for body in got)
