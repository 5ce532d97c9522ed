"""productCreate and skuCreate over HTTP: the catalog import's rules and transaction, from the API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from gateway.catalog_import import ImportFailed, read_catalog
from tests.conftest import Gql, codes
from tests.stories import sell_diapers

PRODUCT_CREATE = """mutation($input: ProductCreateInput!) {
  productCreate(input: $input) {
    product { id handle title skus { code price { minorUnits } } }
    userErrors { code field message }
  }
}"""
SKU_CREATE = """mutation($id: ID!, $input: SkuCreateInput!) {
  skuCreate(productId: $id, input: $input) {
    sku { code price { minorUnits } }
    userErrors { code field message }
  }
}"""
SK = "sk_demo_panda"


def product(**changes) -> dict:
    sku = {"code": "DIAPER-NB90", "title": "NB 90 片", "options": [{"name": "尺码", "value": "NB"}],
           "price": "129.00", "compareAtPrice": "159.00", "purchaseLimit": 5,
           "stock": [{"warehouse": "BJ-01", "quantity": 30}]}
    sku.update(changes.pop("sku", {}))
    return {"handle": "diaper-newborn", "title": "新生儿纸尿裤", "brand": "Panda", "categoryHandle": "diapers",
            "tags": ["新生儿"], "skus": [sku], **changes}


async def create(gql: Gql, input: dict, key: str = SK) -> dict:
    return (await gql(PRODUCT_CREATE, {"input": input}, key=key))["data"]["productCreate"]


async def test_a_created_product_is_found_bought_and_paid(gql: Gql, client: httpx.AsyncClient):
    made = await create(gql, product())
    assert made["userErrors"] == []
    assert made["product"]["skus"] == [{"code": "DIAPER-NB90", "price": {"minorUnits": 12900}}]
    # the shopper finds it in the storefront
    found = await gql('{ products(first: 5, filter: {query: "新生儿"}) { nodes { handle skus { code '
                      'availability(region: "1_72_2799_0") { quantityAvailable } } } } }')
    assert found["data"]["products"]["nodes"] == [
        {"handle": "diaper-newborn", "skus": [{"code": "DIAPER-NB90", "availability": {"quantityAvailable": 30}}]}]
    await sell_diapers(client, 2, "DIAPER-NB90")
    left = await gql('{ sku(code: "DIAPER-NB90") { availability { quantityAvailable } } }')
    assert left["data"]["sku"]["availability"]["quantityAvailable"] == 28


async def test_sku_create_adds_a_sku_to_the_product(gql: Gql):
    made = await create(gql, product())
    added = (await gql(SKU_CREATE, {"id": made["product"]["id"], "input": {
        "code": "DIAPER-NB60", "title": "NB 60 片", "price": "89.90"}}, key=SK))["data"]["skuCreate"]
    assert added == {"sku": {"code": "DIAPER-NB60", "price": {"minorUnits": 8990}}, "userErrors": []}
    again = await gql('{ product(handle: "diaper-newborn") { skus { code } priceRange { min { minorUnits } } } }')
    assert [s["code"] for s in again["data"]["product"]["skus"]] == ["DIAPER-NB90", "DIAPER-NB60"]
    assert again["data"]["product"]["priceRange"]["min"]["minorUnits"] == 8990


async def test_a_bad_deposit_is_refused_with_the_file_imports_reason(gql: Gql, tmp_path: Path):
    deposit = {"deposit": 3000, "creditedValue": 2000, "balanceDueHours": 48, "balanceMethods": ["ONLINE"]}
    bad = {"format": "jimu.catalog/1", "shop": {"handle": "panda-care", "name": "Panda Care"},
           "products": [{"handle": "x", "title": "x", "skus": [
               {"code": "X-1", "title": "x", "price": 12900, "deposit": deposit}]}]}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(ImportFailed) as refused:
        read_catalog(tmp_path / "bad.json")
    reasons = {path: why for _, path, why in refused.value.problems}
    made = await create(gql, product(sku={"deposit": {"deposit": "30.00", "creditedValue": "20.00",
                                                      "balanceDueHours": 48, "balanceMethods": ["ONLINE"]}}))
    assert made["product"] is None
    assert made["userErrors"] == [
        {"code": "INVALID", "field": ["input", "skus", "0", "deposit", "deposit"],
         "message": reasons["products[0].skus[0].deposit.deposit"]},
        {"code": "INVALID", "field": ["input", "skus", "0", "deposit", "creditedValue"],
         "message": reasons["products[0].skus[0].deposit.creditedValue"]},
    ]
    assert (await gql('{ product(handle: "diaper-newborn") { id } }'))["data"]["product"] is None
    assert (await gql('{ sku(code: "DIAPER-NB90") { id } }'))["data"]["sku"] is None


async def test_a_second_sku_at_fault_writes_nothing_of_the_first(gql: Gql):
    first = product()["skus"][0]
    made = await create(gql, product(skus=[first, {**first, "stock": []}]))
    assert made["userErrors"] == [{"code": "INVALID", "field": ["input", "skus", "1", "code"],
                                   "message": "SKU code 'DIAPER-NB90' is already used at input.skus.0.code"}]
    assert (await gql('{ sku(code: "DIAPER-NB90") { id } }'))["data"]["sku"] is None


async def test_unknown_category_and_warehouse_are_not_found(gql: Gql):
    made = await create(gql, product(categoryHandle="toys", sku={"stock": [{"warehouse": "XX-9", "quantity": 1}]}))
    assert made["userErrors"] == [
        {"code": "NOT_FOUND", "field": ["input", "categoryHandle"], "message": "no category 'toys' in this shop"},
        {"code": "NOT_FOUND", "field": ["input", "skus", "0", "stock", "0", "warehouse"],
         "message": "no warehouse 'XX-9' in this shop"}]


async def test_an_existing_handle_or_code_is_refused_and_nothing_is_written(gql: Gql):
    made = await create(gql, product(handle="diaper-soft"))
    assert [(e["code"], e["field"]) for e in made["userErrors"]] == [("INVALID", ["input", "handle"])]
    made = await create(gql, product(sku={"code": "DIAPER-L54"}))
    assert [(e["code"], e["field"]) for e in made["userErrors"]] == [("INVALID", ["input", "skus", "0", "code"])]
    assert (await gql('{ product(handle: "diaper-newborn") { id } }'))["data"]["product"] is None
    kept = await gql('{ sku(code: "DIAPER-L54") { title price { minorUnits } } }')
    assert kept["data"]["sku"]["price"]["minorUnits"] != 12900
    before = await gql('{ product(handle: "diaper-soft") { title } }')
    assert before["data"]["product"]["title"] != "新生儿纸尿裤"


@pytest.mark.parametrize("price", ["1.005", "NaN", "1e30"])
async def test_money_that_is_not_money_is_refused(gql: Gql, price: str):
    made = await create(gql, product(sku={"price": price}))
    assert made["product"] is None
    assert [(e["code"], e["field"]) for e in made["userErrors"]] == [("INVALID", ["input", "skus", "0", "price"])]


async def test_ill_formed_money_is_bad_user_input(gql: Gql):
    body = await gql(PRODUCT_CREATE, {"input": product(sku={"price": "twelve"})}, key=SK)
    assert body.get("data") is None and body["errors"]


async def test_a_storefront_key_is_forbidden(gql: Gql):
    body = await gql(PRODUCT_CREATE, {"input": product()}, key="pk_demo_panda")
    assert codes(body) == ["FORBIDDEN"]
    body = await gql(SKU_CREATE, {"id": "gid://jimu/Product/1", "input": product()["skus"][0]}, key="pk_demo_panda")
    assert codes(body) == ["FORBIDDEN"]


async def test_sku_create_on_another_shops_product_is_not_found(gql: Gql):
    theirs = await gql('{ product(handle: "diaper-soft") { id } }')
    pid = theirs["data"]["product"]["id"]
    body = await gql(SKU_CREATE, {"id": pid, "input": {"code": "W-1", "title": "w", "price": "1.00"}},
                     key="sk_demo_aurelian")
    assert body["data"]["skuCreate"] == {"sku": None, "userErrors": [
        {"code": "NOT_FOUND", "field": ["productId"], "message": "no such product in this shop"}]}
    body = await gql(SKU_CREATE, {"id": "not-an-id", "input": {"code": "W-1", "title": "w", "price": "1.00"}},
                     key="sk_demo_aurelian")
    assert body["data"]["skuCreate"]["userErrors"][0]["code"] == "INVALID"
