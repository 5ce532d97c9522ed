"""The goods part of the contract, over HTTP."""

from __future__ import annotations

import pytest

from tests.conftest import Gql, codes

PRODUCT_FIELDS = """
  id handle title description brand tags
  images { url altText }
  category { id handle name parent { handle } }
  priceRange { min { amount minorUnits currencyCode } max { amount } }
  skus {
    id code title options { name value }
    price { amount minorUnits } compareAtPrice { amount }
    purchaseLimit premiumDeliveryEligible
    depositPolicy { deposit { amount } creditedValue { amount } balanceDueHours balanceMethods }
    product { handle }
  }
"""


async def test_the_shop_shows_its_payment_cap_as_money(gql: Gql):
    body = await gql("{ shop { id handle name onlinePaymentCap { amount minorUnits currencyCode } } }")
    assert body["data"]["shop"]["handle"] == "panda-care"
    assert body["data"]["shop"]["onlinePaymentCap"] == {
        "amount": "50000.00",
        "minorUnits": 5_000_000,
        "currencyCode": "CNY",
    }


async def test_a_watch_shows_its_price_and_deposit_policy(gql: Gql):
    # when
    body = await gql(f'{{ product(handle: "regatta-41") {{ {PRODUCT_FIELDS} }} }}', key="pk_demo_aurelian")
    # then
    watch = body["data"]["product"]
    steel = watch["skus"][0]
    assert watch["priceRange"]["min"]["amount"] == "130000.00"
    assert watch["priceRange"]["max"]["amount"] == "470000.00"
    assert watch["category"]["handle"] == "watches" and watch["category"]["parent"] is None
    assert steel["price"] == {"amount": "130000.00", "minorUnits": 13_000_000}
    assert steel["depositPolicy"] == {
        "deposit": {"amount": "10000.00"},
        "creditedValue": {"amount": "12000.00"},
        "balanceDueHours": 72,
        "balanceMethods": ["POS_ON_DELIVERY"],
    }
    assert steel["options"] == [{"name": "material", "value": "精钢"}]
    assert steel["purchaseLimit"] == 1 and steel["product"]["handle"] == "regatta-41"


async def test_pages_follow_their_cursors_to_the_end(gql: Gql):
    # given
    query = """query($after: String) {
      products(first: 2, after: $after, sortKey: PRICE, reverse: true) {
        totalCount edges { cursor node { handle } } nodes { handle }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }"""
    seen, after, pages = [], None, 0
    # when
    while True:
        page = (await gql(query, {"after": after}))["data"]["products"]
        pages += 1
        assert [e["node"]["handle"] for e in page["edges"]] == [n["handle"] for n in page["nodes"]]
        assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [n["handle"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then
    assert pages == 2 and page["totalCount"] == 3
    assert seen == ["diaper-soft", "wipes-80", "sample-pack"]


async def test_search_filters_and_counts_over_graphql(gql: Gql):
    body = await gql('{ products(filter: { query: "DIAPER", categoryHandle: "baby", maxPrice: "200.00" }) '
                     "{ totalCount nodes { handle } } }")
    assert body["data"]["products"] == {"totalCount": 1, "nodes": [{"handle": "diaper-soft"}]}


async def test_an_explicit_null_means_the_default(gql: Gql):
    body = await gql("{ products(first: null, sortKey: null, reverse: null) { nodes { handle } } }")
    assert len(body["data"]["products"]["nodes"]) == 3


@pytest.mark.parametrize(
    "arguments",
    [
        "first: 0",
        "first: 101",
        "first: -5",
        'after: "not-a-cursor"',
        "filter: { minPrice: \"-1\" }",
        "filter: { minPrice: \"1.005\" }",
        "filter: { minPrice: \"5\", maxPrice: \"1\" }",
        'filter: { query: "' + "x" * 101 + '" }',
    ],
)
async def test_out_of_range_arguments_are_bad_user_input(gql: Gql, arguments: str):
    body = await gql(f"{{ products({arguments}) {{ totalCount }} }}")
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["data"] is None


async def test_a_cursor_from_another_ordering_is_bad_user_input(gql: Gql):
    cursor = (await gql("{ products(first: 1, sortKey: TITLE) { pageInfo { endCursor } } }"))["data"]["products"]
    body = await gql('query($c: String) { products(after: $c, sortKey: PRICE) { totalCount } }',
                     {"c": cursor["pageInfo"]["endCursor"]})
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_product_takes_exactly_one_of_handle_or_id(gql: Gql):
    assert codes(await gql("{ product { id } }")) == ["BAD_USER_INPUT"]
    assert codes(await gql('{ product(handle: "a", id: "gid://jimu/Product/1") { id } }')) == ["BAD_USER_INPUT"]
    assert codes(await gql('{ product(id: "42") { id } }')) == ["BAD_USER_INPUT"]
    assert (await gql('{ product(handle: "nope") { id } }'))["data"]["product"] is None


async def test_node_finds_every_kind_of_object_by_its_id(gql: Gql):
    # given
    ids = (await gql('{ shop { id } categories { id } product(handle: "wipes-80") { id skus { id } } }'))["data"]
    wanted = {
        ids["shop"]["id"]: "Shop",
        ids["categories"][0]["id"]: "Category",
        ids["product"]["id"]: "Product",
        ids["product"]["skus"][0]["id"]: "Sku",
    }
    for id_, type_name in wanted.items():
        # when
        body = await gql("query($id: ID!) { node(id: $id) { __typename id } }", {"id": id_})
        # then
        assert body["data"]["node"] == {"__typename": type_name, "id": id_}
        assert (await gql("query($id: ID!) { node(id: $id) { id } }", {"id": id_}, key="pk_demo_aurelian"))[
            "data"
        ]["node"] is None, "another shop must not see it"


async def test_product_by_id_stays_inside_the_shop(gql: Gql):
    watch = (await gql('{ product(handle: "regatta-41") { id } }', key="pk_demo_aurelian"))["data"]["product"]
    own = await gql("query($id: ID!) { product(id: $id) { handle } }", {"id": watch["id"]}, key="pk_demo_aurelian")
    other = await gql("query($id: ID!) { product(id: $id) { handle } }", {"id": watch["id"]})
    assert own["data"]["product"] == {"handle": "regatta-41"}
    assert other["data"]["product"] is None
    assert (await gql('{ sku(code: "WATCH-RG41-GOLD") { code } }'))["data"]["sku"] is None


@pytest.mark.parametrize("bad", ["", "42", "gid://jimu/Product/abc", "gid://other/Product/1", "gid://jimu/Product/0"])
async def test_a_malformed_node_id_is_bad_user_input(gql: Gql, bad: str):
    body = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": bad})
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_a_well_formed_id_of_an_unknown_type_is_null(gql: Gql):
    body = await gql('{ node(id: "gid://jimu/Spaceship/1") { id } }')
    assert body["data"] == {"node": None} and "errors" not in body


async def test_categories_list_the_tree(gql: Gql):
    body = await gql("{ categories { handle name parent { handle } } }")
    assert body["data"]["categories"] == [
        {"handle": "baby", "name": "母婴", "parent": None},
        {"handle": "diapers", "name": "纸尿裤", "parent": {"handle": "baby"}},
        {"handle": "wipes", "name": "湿巾", "parent": {"handle": "baby"}},
    ]


async def test_regions_list_provinces_and_the_cities_below(gql: Gql):
    provinces = (await gql("{ regions { code name parentCode } }"))["data"]["regions"]
    guangdong = (await gql('{ regions(parentCode: "19") { code name parentCode } }'))["data"]["regions"]
    assert {"code": "1", "name": "北京", "parentCode": None} in provinces
    assert len(provinces) >= 34
    assert guangdong == [
        {"code": "19_1601", "name": "广州市", "parentCode": "19"},
        {"code": "19_1607", "name": "深圳市", "parentCode": "19"},
    ]
    assert codes(await gql('{ regions(parentCode: "Guangdong") { code } }')) == ["BAD_USER_INPUT"]
    for query in ('{ regions(parentCode: "99") { code } }', '{ products(filter: {availableInRegion: "99"}) { totalCount } }',
                  '{ sku(code: "WIPES-80X6") { availability(region: "99") { status } } }',
                  '{ sku(code: "WIPES-80X6") { deliveryOptions(region: "99_1", quantity: 1) { tier } } }'):
        answer = await gql(query)
        assert codes(answer) == ["BAD_USER_INPUT"] and "no province '99'" in answer["errors"][0]["message"], query
