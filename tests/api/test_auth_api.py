"""Shop keys, shopper sign-in and tokens, over HTTP."""

from __future__ import annotations

from dataclasses import replace

import httpx

from adapters.db import Database
from adapters.identity.wechat import WechatIdentityProvider
from gateway.settings import Settings
from gateway.wiring import Adapters, sql_adapters
from tests.conftest import Gql, api_client, codes, make_gql

LOGIN = """mutation($code: String!) {
  shopperLogin(code: $code) { token shopper { id } userErrors { code field message } }
}"""
ME = "{ me { id } }"


async def test_no_key_or_an_unknown_key_is_unauthenticated(gql: Gql):
    assert codes(await gql("{ shop { name } }", key=None)) == ["UNAUTHENTICATED"]
    assert codes(await gql("{ shop { name } }", key="pk_not_a_real_key")) == ["UNAUTHENTICATED"]
    assert codes(await gql("{ products { totalCount } }", key="")) == ["UNAUTHENTICATED"]


async def test_a_secret_key_also_reads_the_storefront(gql: Gql):
    assert (await gql("{ shop { handle } }", key="sk_demo_panda"))["data"]["shop"]["handle"] == "panda-care"


async def test_a_dev_code_signs_in_the_same_shopper_every_time(gql: Gql):
    # when
    first = (await gql(LOGIN, {"code": "dev:alice"}))["data"]["shopperLogin"]
    second = (await gql(LOGIN, {"code": "dev:alice"}))["data"]["shopperLogin"]
    other = (await gql(LOGIN, {"code": "dev:bob"}))["data"]["shopperLogin"]
    # then
    assert first["userErrors"] == [] and first["token"]
    assert first["shopper"]["id"] == second["shopper"]["id"] != other["shopper"]["id"]


async def test_me_is_the_shopper_of_the_token(gql: Gql):
    login = (await gql(LOGIN, {"code": "dev:carol"}))["data"]["shopperLogin"]
    assert (await gql(ME, token=login["token"]))["data"]["me"] == login["shopper"]
    assert (await gql(ME))["data"]["me"] is None


async def test_a_shoppers_node_is_visible_to_that_shopper_only(gql: Gql):
    carol = (await gql(LOGIN, {"code": "dev:carol"}))["data"]["shopperLogin"]
    dave = (await gql(LOGIN, {"code": "dev:dave"}))["data"]["shopperLogin"]
    query = "query($id: ID!) { node(id: $id) { id } }"
    assert (await gql(query, {"id": carol["shopper"]["id"]}, token=carol["token"]))["data"]["node"] is not None
    assert (await gql(query, {"id": carol["shopper"]["id"]}, token=dave["token"]))["data"]["node"] is None
    assert (await gql(query, {"id": carol["shopper"]["id"]}))["data"]["node"] is None


async def test_a_bad_or_foreign_token_is_unauthenticated(gql: Gql):
    panda_token = (await gql(LOGIN, {"code": "dev:erin"}))["data"]["shopperLogin"]["token"]
    assert codes(await gql(ME, token="garbage")) == ["UNAUTHENTICATED"]
    assert codes(await gql(ME, token=panda_token[:-2] + "xx")) == ["UNAUTHENTICATED"]
    assert codes(await gql(ME, token=panda_token, key="pk_demo_aurelian")) == ["UNAUTHENTICATED"]


async def test_a_code_that_is_refused_is_a_user_error(gql: Gql):
    for code in ["wx-code-without-wechat", "dev:", "", "x" * 300]:
        payload = (await gql(LOGIN, {"code": code}))["data"]["shopperLogin"]
        assert payload["token"] is None and payload["shopper"] is None
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", ["code"])]


def with_wechat(sql: Adapters, settings: Settings, handler) -> Adapters:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    wechat = WechatIdentityProvider("wx-app", "wx-secret", client)
    return replace(sql, identity=wechat)


async def test_production_signs_in_through_wechat_only(demo: Adapters, settings: Settings):
    # given a production gateway whose WeChat answers with an openid
    production = Settings(database_url=settings.database_url, env="production", secret="p" * 40)
    adapters = with_wechat(demo, production, lambda r: httpx.Response(200, json={"openid": "o-1"}))
    async with api_client(production, adapters) as client:
        gql = make_gql(client)
        # when
        wx = (await gql(LOGIN, {"code": "0a3"}))["data"]["shopperLogin"]
        dev = (await gql(LOGIN, {"code": "dev:alice"}))["data"]["shopperLogin"]
    # then both go to WeChat: there is no dev provider in production
    assert wx["userErrors"] == [] and wx["token"]
    assert dev["shopper"]["id"] == wx["shopper"]["id"]


async def test_wechat_not_answering_is_service_unavailable(demo: Adapters, settings: Settings):
    adapters = with_wechat(demo, settings, lambda r: httpx.Response(503))
    async with api_client(settings, adapters) as client:
        body = await make_gql(client)(LOGIN, {"code": "0a3"})
    assert codes(body) == ["SERVICE_UNAVAILABLE"]


async def test_production_without_any_wechat_app_refuses_sign_in_clearly(demo: Adapters, settings: Settings, db: Database):
    # given production with no deployment-wide WeChat app, and a shop with none of its own
    production = Settings(database_url=settings.database_url, env="production", secret="p" * 40)
    async with api_client(production, sql_adapters(production, db)) as client:
        # when a shopper signs in
        payload = (await make_gql(client)(LOGIN, {"code": "0a3"}))["data"]["shopperLogin"]
    # then it is a user error that says what is missing, not a 500 and not the shopper's fault
    assert payload["token"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID_STATE", ["code"])]
    assert "jimu shop wechat set" in payload["userErrors"][0]["message"]
