"""/metrics over HTTP: a story's requests, codes, cache, statements, payment and coupons show in it; and who may read it."""

from __future__ import annotations

from dataclasses import replace

import httpx

from gateway.app import create_app
from gateway.settings import Settings
from gateway.wiring import Adapters
from tests.conftest import api_client, make_gql
from tests.scrape import total
from tests.stories import sell_diapers

TOKEN = "metrics-token-0123456789"
LOGIN = 'mutation($c: String!) { shopperLogin(code: $c) { token } }'
CLAIM = "mutation Claim($id: ID!) { couponClaim(templateId: $id) { coupon { id } userErrors { code } } }"
CAMPAIGN = """mutation($input: AssistCampaignInput!) { assistCampaignCreate(input: $input) {
  campaign { code } userErrors { code field } } }"""
START = 'mutation { assistStart(campaignCode: "ONE-FRIEND") { assist { id } userErrors { code } } }'
HELP = "mutation Help($id: ID!) { assistHelp(assistId: $id) { assist { state } userErrors { code } } }"


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


async def test_a_story_shows_in_the_metrics(settings: Settings, demo: Adapters):
    # given the gateway with its response cache on
    async with api_client(replace(settings, response_cache_seconds=60), demo) as client:
        gql = make_gql(client)
        # when a shopper buys and pays through the sandbox, claims a coupon and gets an assist's reward,
        await sell_diapers(client, 2)
        mum = (await gql(LOGIN, {"c": "dev:mum"}))["data"]["shopperLogin"]["token"]
        templates = (await gql('query Coupons { product(handle: "wipes-80") { coupons { id code } } }'))[
            "data"]["product"]["coupons"]
        welcome = next(t["id"] for t in templates if t["code"] == "WELCOME-20")
        assert (await gql(CLAIM, {"id": welcome}, token=mum))["data"]["couponClaim"]["userErrors"] == []
        assert (await gql(CLAIM, {"id": welcome}, token=mum))["data"]["couponClaim"]["userErrors"] != []
        await assist_completed(gql, mum)
        # a storefront query is asked twice (the second from the cache) and two go wrong
        await gql("query ShopName { shop { name } }")
        await gql("query ShopName { shop { name } }")
        await gql("query Typo { shop { nme } }")
        await gql("query Mine { me { id } }", token="not-a-token")
        text = await scrape(client)
        again = await scrape(client)

    # then each is counted where it belongs
    assert total(text, "jimu_graphql_requests_total", operation="Claim", kind="mutation", outcome="ok") == 2
    assert total(text, "jimu_graphql_requests_total", operation="Typo", outcome="refused") == 1
    assert total(text, "jimu_graphql_requests_total", operation="(anonymous)", kind="mutation") >= 5
    assert total(text, "jimu_graphql_request_duration_seconds_count", operation="ShopName", outcome="ok") == 2
    assert total(text, "jimu_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 1
    assert total(text, "jimu_graphql_errors_total", code="UNAUTHENTICATED") == 1
    assert total(text, "jimu_response_cache_lookups_total", result="hit") >= 1
    assert total(text, "jimu_response_cache_lookups_total", result="miss") >= 1
    assert total(text, "jimu_graphql_sql_statements_sum") >= total(text, "jimu_graphql_requests_total")
    assert total(text, "jimu_payments_settled_total", method="SANDBOX", state="SUCCEEDED") == 1
    assert total(text, "jimu_coupons_claimed_total") == 1
    assert total(text, "jimu_assist_coupons_granted_total") == 1
    assert total(text, "jimu_http_requests_total", route="/webhooks/payments/sandbox", status="2xx") == 1
    # and the scrapes themselves are no requests of anybody's
    assert total(again, "jimu_graphql_requests_total") == total(text, "jimu_graphql_requests_total")
    assert total(again, "jimu_http_requests_total") == total(text, "jimu_http_requests_total")


async def assist_completed(gql, mum: str) -> None:
    """A campaign that one friend's help completes, started by mum and helped by auntie."""
    made = await gql(CAMPAIGN, {"input": {
        "code": "ONE-FRIEND", "title": "一位好友", "requiredAssists": 1, "rewardTemplateCode": "BIG-A",
        "startsAt": "2020-01-01T00:00:00+08:00", "endsAt": "2099-01-01T00:00:00+08:00"}}, key="sk_demo_panda")
    assert made["data"]["assistCampaignCreate"]["userErrors"] == []
    await gql("mutation { shopFollow { shopper { following } } }", token=mum)
    await gql("mutation { membershipJoin { shopper { member } } }", token=mum)
    started = (await gql(START, token=mum))["data"]["assistStart"]
    assert started["userErrors"] == [], started
    auntie = (await gql(LOGIN, {"c": "dev:auntie"}))["data"]["shopperLogin"]["token"]
    helped = (await gql(HELP, {"id": started["assist"]["id"]}, token=auntie))["data"]["assistHelp"]
    assert helped["assist"]["state"] == "GRANTED", helped


def client_from(settings: Settings, adapters: Adapters, address: str) -> httpx.AsyncClient:
    app = create_app(settings, adapters)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://jimu.test")


async def test_without_a_token_metrics_answer_loopback_only(settings: Settings, sql: Adapters):
    production_like = replace(settings, env="production")
    async with client_from(production_like, sql, "127.0.0.1") as local, \
            client_from(production_like, sql, "203.0.113.9") as public:
        # when a local and a public client ask, and the local one through a proxy jimu does not know
        ok = await local.get("/metrics")
        refused = await public.get("/metrics")
        forwarded = await local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    # then only the local one reads, and the others are told why not
    assert ok.status_code == 200 and "jimu_graphql_requests_total" in ok.text
    assert refused.status_code == 403 and "JIMU_METRICS_ALLOW" in refused.text
    assert forwarded.status_code == 403 and "JIMU_TRUSTED_PROXIES" in forwarded.text


async def test_with_a_token_the_right_token_reads_from_anywhere(settings: Settings, sql: Adapters):
    async with client_from(replace(settings, metrics_token=TOKEN), sql, "203.0.113.9") as public:
        # when asked without the token, with a wrong one and with the right one
        missing = await public.get("/metrics")
        wrong = await public.get("/metrics", headers={"Authorization": "Bearer metrics-token-0123456788"})
        right = await public.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        posted = await public.post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    # then
    assert missing.status_code == 401 and "Authorization: Bearer" in missing.text
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert right.status_code == 200 and right.headers["cache-control"] == "no-store"
    assert "jimu_graphql_requests_total" in right.text
    assert posted.status_code == 405
