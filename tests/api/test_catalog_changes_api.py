"""productUpdate, skuUpdate, productArchive over HTTP: the catalog file's rules, one transaction a
change, caches dropped, and orders keeping what they were placed with."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx

from gateway.settings import Settings
from gateway.wiring import Adapters
from tests.api.test_deposit_story import deposit_order
from tests.conftest import Gql, api_client, make_gql
from tests.stories import sell_diapers

SK = "sk_demo_panda"
PRODUCT_UPDATE = """mutation($id: ID!, $input: ProductUpdateInput!) {
  productUpdate(id: $id, input: $input) {
    product { handle title tags category { handle } archivedAt }
    userErrors { code field message }
  }
}"""
SKU_UPDATE = """mutation($id: ID!, $input: SkuUpdateInput!) {
  skuUpdate(id: $id, input: $input) {
    sku { code title price { minorUnits } compareAtPrice { minorUnits } purchaseLimit
          depositPolicy { deposit { minorUnits } creditedValue { minorUnits } } }
    userErrors { code field message }
  }
}"""
ARCHIVE = """mutation($id: ID!) { %s(id: $id) { product { handle archivedAt } userErrors { code field message } } }"""
LINES = """query($n: String!) { merchant { order(number: $n) {
  lines { title variantTitle skuCode unitPrice { minorUnits } deposit { minorUnits } creditedValue { minorUnits }
          sku { code price { minorUnits } product { title archivedAt } } } } } }"""
DIAPERS = '{ product(handle: "diaper-soft") { id title tags skus { id code } } }'


async def diapers(gql: Gql) -> dict:
    found = (await gql(DIAPERS))["data"]["product"]
    assert found is not None
    return found


async def update_product(gql: Gql, id: str, **input) -> dict:
    return (await gql(PRODUCT_UPDATE, {"id": id, "input": input}, key=SK))["data"]["productUpdate"]


async def update_sku(gql: Gql, id: str, key: str = SK, **input) -> dict:
    return (await gql(SKU_UPDATE, {"id": id, "input": input}, key=key))["data"]["skuUpdate"]


async def test_a_product_update_changes_only_what_it_names(gql: Gql):
    product = await diapers(gql)
    changed = await update_product(gql, product["id"], title="熊猫纸尿裤 Pro", tags=["pro"])
    assert changed["userErrors"] == []
    assert changed["product"]["title"] == "熊猫纸尿裤 Pro" and changed["product"]["tags"] == ["pro"]
    assert changed["product"]["category"] == {"handle": "diapers"}  # left out: as it was
    found = await gql('{ products(first: 5, filter: {query: "Pro"}) { nodes { handle } } }')
    assert found["data"]["products"]["nodes"] == [{"handle": "diaper-soft"}]
    cleared = await update_product(gql, product["id"], categoryHandle=None)
    assert cleared["product"]["category"] is None


async def test_product_update_refusals_name_the_field(gql: Gql):
    product = await diapers(gql)
    assert (await update_product(gql, product["id"], title=None))["userErrors"] == [
        {"code": "INVALID", "field": ["input", "title"], "message": "give a value or leave the field out"}]
    unknown = await update_product(gql, product["id"], categoryHandle="toys")
    assert [(e["code"], e["field"]) for e in unknown["userErrors"]] == [("NOT_FOUND", ["input", "categoryHandle"])]
    blank = await update_product(gql, product["id"], title="  ")
    assert [(e["code"], e["field"]) for e in blank["userErrors"]] == [("INVALID", ["input", "title"])]
    assert (await diapers(gql))["title"] == product["title"]  # nothing written
    bad_id = await update_product(gql, "gid://jimu/Sku/1", title="x")
    assert [(e["code"], e["field"]) for e in bad_id["userErrors"]] == [("INVALID", ["id"])]
    watch = (await gql('{ product(handle: "regatta-41") { id } }', key="pk_demo_aurelian"))["data"]["product"]
    elsewhere = await update_product(gql, watch["id"], title="x")  # another shop's product
    assert elsewhere["userErrors"] == [{"code": "NOT_FOUND", "field": ["id"], "message": "no such product in this shop"}]


async def test_a_sku_update_reprices_new_carts_and_the_order_placed_before_keeps_its_price_and_title(
        gql: Gql, client: httpx.AsyncClient):
    await sell_diapers(client, 1)
    [number] = [n["number"] for n in (await gql("{ merchant { orders(first: 1) { nodes { number } } } }",
                                                key=SK))["data"]["merchant"]["orders"]["nodes"]]
    sku = (await diapers(gql))["skus"][0]
    changed = await update_sku(gql, sku["id"], price="139.00", title="L 码 50 片", compareAtPrice=None)
    assert changed["userErrors"] == []
    assert changed["sku"] | {"depositPolicy": None} == {
        "code": "DIAPER-L54", "title": "L 码 50 片", "price": {"minorUnits": 13900}, "compareAtPrice": None,
        "purchaseLimit": 10, "depositPolicy": None}
    await update_product(gql, (await diapers(gql))["id"], title="熊猫纸尿裤 新款")
    [line] = (await gql(LINES, {"n": number}, key=SK))["data"]["merchant"]["order"]["lines"]
    assert (line["title"], line["variantTitle"], line["skuCode"]) == ("云柔纸尿裤", "L 码 54 片", "DIAPER-L54")
    assert line["unitPrice"] == {"minorUnits": 15900} and line["deposit"] is None
    assert line["sku"]["price"] == {"minorUnits": 13900}  # the SKU as it is now
    priced = await gql('{ product(handle: "diaper-soft") { priceRange { min { minorUnits } max { minorUnits } } } }')
    assert priced["data"]["product"]["priceRange"] == {"min": {"minorUnits": 13900}, "max": {"minorUnits": 15900}}


async def test_deposit_terms_follow_the_catalog_rules_and_an_order_keeps_the_terms_it_was_placed_with(gql: Gql):
    _, number = await deposit_order(gql, "collector")
    watch = (await gql('{ sku(code: "WATCH-RG41-STEEL") { id } }', key="pk_demo_aurelian"))["data"]["sku"]
    # above 20% of the price: the file import's reason, at the input's field
    too_much = await update_sku(gql, watch["id"], key="sk_demo_aurelian", deposit={
        "deposit": "30000.00", "creditedValue": "36000.00", "balanceDueHours": 72, "balanceMethods": ["ONLINE"]})
    assert [(e["code"], e["field"]) for e in too_much["userErrors"]] == [("INVALID", ["input", "deposit", "deposit"])]
    assert "20%" in too_much["userErrors"][0]["message"]
    changed = await update_sku(gql, watch["id"], key="sk_demo_aurelian", deposit={
        "deposit": "20000.00", "creditedValue": "25000.00", "balanceDueHours": 48, "balanceMethods": ["ONLINE"]})
    assert changed["userErrors"] == []
    assert changed["sku"]["depositPolicy"] == {"deposit": {"minorUnits": 2_000_000},
                                               "creditedValue": {"minorUnits": 2_500_000}}
    [line] = (await gql(LINES, {"n": number}, key="sk_demo_aurelian"))["data"]["merchant"]["order"]["lines"]
    assert (line["deposit"], line["creditedValue"]) == ({"minorUnits": 1_000_000}, {"minorUnits": 1_200_000})
    removed = await update_sku(gql, watch["id"], key="sk_demo_aurelian", deposit=None)
    assert removed["userErrors"] == [] and removed["sku"]["depositPolicy"] is None


async def test_sku_update_refusals(gql: Gql):
    sku = (await diapers(gql))["skus"][0]
    assert [(e["code"], e["field"]) for e in (await update_sku(gql, sku["id"], price="1.999"))["userErrors"]] == [
        ("INVALID", ["input", "price"])]
    assert [(e["code"], e["field"]) for e in (await update_sku(gql, sku["id"], price=None))["userErrors"]] == [
        ("INVALID", ["input", "price"])]
    limit = await update_sku(gql, sku["id"], purchaseLimit=0)
    assert [(e["code"], e["field"]) for e in limit["userErrors"]] == [("INVALID", ["input", "purchaseLimit"])]
    assert [(e["code"], e["field"]) for e in (await update_sku(gql, "nope", title="x"))["userErrors"]] == [
        ("INVALID", ["id"])]
    watch = (await gql('{ sku(code: "WATCH-RG41-STEEL") { id } }', key="pk_demo_aurelian"))["data"]["sku"]
    assert (await update_sku(gql, watch["id"], title="x"))["userErrors"] == [
        {"code": "NOT_FOUND", "field": ["id"], "message": "no such SKU in this shop"}]
    shopper = await gql(SKU_UPDATE, {"id": sku["id"], "input": {"title": "x"}})  # a storefront key
    assert shopper["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_two_sku_updates_of_one_product_at_once_both_hold(gql: Gql):
    first, second = (await diapers(gql))["skus"]
    done = await asyncio.gather(update_sku(gql, first["id"], price="150.00"), update_sku(gql, second["id"], price="151.00"))
    assert [d["userErrors"] for d in done] == [[], []]
    prices = (await gql('{ product(handle: "diaper-soft") { skus { price { minorUnits } } '
                        'priceRange { min { minorUnits } max { minorUnits } } } }'))["data"]["product"]
    assert [s["price"]["minorUnits"] for s in prices["skus"]] == [15000, 15100]
    # each revision read the other's price: the range is of both (not of one new price and one old)
    assert prices["priceRange"] == {"min": {"minorUnits": 15000}, "max": {"minorUnits": 15100}}


async def test_two_creations_of_one_handle_at_once_make_one_product(gql: Gql):
    create = """mutation($c: String!) { productCreate(input: {handle: "twin", title: "Twin", skus: [
      {code: $c, title: "t", price: "1.00"}]}) { product { handle } userErrors { code field } } }"""
    done = await asyncio.gather(*(gql(create, {"c": f"TWIN-{n}"}, key=SK) for n in range(2)))
    answers = sorted(str(d["data"]["productCreate"]) for d in done)
    assert answers == [str({"product": None, "userErrors": [{"code": "INVALID", "field": ["input", "handle"]}]}),
                       str({"product": {"handle": "twin"}, "userErrors": []})]


async def test_an_archived_product_leaves_the_storefront_and_stays_in_its_orders(gql: Gql, client: httpx.AsyncClient):
    await sell_diapers(client, 1)
    [number] = [n["number"] for n in (await gql("{ merchant { orders(first: 1) { nodes { number } } } }",
                                                key=SK))["data"]["merchant"]["orders"]["nodes"]]
    product = await diapers(gql)
    token = (await gql('mutation { shopperLogin(code: "dev:later") { token } }'))["data"]["shopperLogin"]["token"]
    held = (await gql('mutation { cartCreate(lines: [{skuCode: "DIAPER-L54", quantity: 1}]) { cart { id } } }',
                      token=token))["data"]["cartCreate"]["cart"]
    archived = (await gql(ARCHIVE % "productArchive", {"id": product["id"]}, key=SK))["data"]["productArchive"]
    assert archived["userErrors"] == [] and archived["product"]["archivedAt"] is not None
    again = (await gql(ARCHIVE % "productArchive", {"id": product["id"]}, key=SK))["data"]["productArchive"]
    assert again["product"]["archivedAt"] == archived["product"]["archivedAt"]  # archiving again changes nothing
    # gone from search, lookups and carts
    found = await gql('{ products(first: 20) { nodes { handle } totalCount } }')
    assert "diaper-soft" not in [n["handle"] for n in found["data"]["products"]["nodes"]]
    looked = await gql('query($id: ID!, $s: ID!) { product(handle: "diaper-soft") { id } byId: product(id: $id) { id } '
                       'sku(code: "DIAPER-L54") { id } node(id: $s) { id } }', {"id": product["id"], "s": product["skus"][0]["id"]})
    assert looked["data"] == {"product": None, "byId": None, "sku": None, "node": None}
    refused = await gql('mutation { cartCreate(lines: [{skuCode: "DIAPER-L54", quantity: 1}]) { userErrors { code field } } }',
                        token=token)
    assert refused["data"]["cartCreate"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["lines", "0", "skuCode"]}]
    cart = await gql('query($id: ID!) { cart(id: $id) { lines { id } warnings { code message } } }', {"id": held["id"]},
                     token=token)
    assert cart["data"]["cart"]["lines"] == []
    assert {"code": "NOT_FOUND", "message": "an item in the cart is no longer sold: remove it"} in cart["data"]["cart"]["warnings"]
    # the order placed before still shows its line, its SKU and the archived product
    [line] = (await gql(LINES, {"n": number}, key=SK))["data"]["merchant"]["order"]["lines"]
    assert line["skuCode"] == "DIAPER-L54" and line["sku"]["product"]["archivedAt"] == archived["product"]["archivedAt"]
    back = (await gql(ARCHIVE % "productUnarchive", {"id": product["id"]}, key=SK))["data"]["productUnarchive"]
    assert back["product"] == {"handle": "diaper-soft", "archivedAt": None}
    assert (await gql('{ product(handle: "diaper-soft") { handle } }'))["data"]["product"] == {"handle": "diaper-soft"}


async def test_archive_refusals(gql: Gql):
    assert (await gql(ARCHIVE % "productArchive", {"id": "gid://jimu/Product/x"}, key=SK))["data"]["productArchive"][
        "userErrors"][0]["field"] == ["id"]
    missing = (await gql(ARCHIVE % "productArchive", {"id": "gid://jimu/Product/999999"}, key=SK))["data"]
    assert missing["productArchive"]["userErrors"] == [
        {"code": "NOT_FOUND", "field": ["id"], "message": "no such product in this shop"}]
    forbidden = await gql(ARCHIVE % "productArchive", {"id": "gid://jimu/Product/1"})
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_changes_drop_the_cached_answers_of_every_reader(settings: Settings, demo: Adapters):
    cached = replace(settings, response_cache_seconds=30, reference_cache_seconds=30)
    async with api_client(cached, demo) as client:
        gql = make_gql(client)
        product = await diapers(gql)
        listing = '{ products(first: 20) { nodes { handle title skus { price { minorUnits } } } } }'
        before = await gql(listing)
        assert before == await gql(listing)  # held
        await update_product(gql, product["id"], title="新标题")
        await update_sku(gql, product["skus"][0]["id"], price="99.00")
        after = {n["handle"]: n for n in (await gql(listing))["data"]["products"]["nodes"]}
        assert after["diaper-soft"]["title"] == "新标题"
        assert after["diaper-soft"]["skus"][0]["price"] == {"minorUnits": 9900}
        await gql(ARCHIVE % "productArchive", {"id": product["id"]}, key=SK)
        assert "diaper-soft" not in [n["handle"] for n in (await gql(listing))["data"]["products"]["nodes"]]
