"""The server as it runs for real: one JSON line per request, nothing secret in the log, and
SIGTERM during checkouts finishing what was in flight."""

from __future__ import annotations

import asyncio
import json
import signal

import httpx

from adapters.shops.port import Shop
from gateway.wiring import Adapters
from tests.conftest import make_gql
from tests.stories import REGION, sell_diapers

DEMO_SECRETS = ("pk_demo_panda", "sk_demo_panda", "sandbox-secret")


def json_lines(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines if line.startswith("{")]


async def test_a_whole_story_logs_one_json_line_per_request_and_no_secret(serve, demo: Adapters, settings):
    # given the server logging JSON
    ids: list[str] = []

    async def remember(response: httpx.Response) -> None:
        ids.append(response.headers["x-request-id"])

    with serve(JIMU_LOG_FORMAT="json") as served:
        async with httpx.AsyncClient(base_url=served.url, event_hooks={"response": [remember]}) as client:
            # when a shopper buys and pays, and the merchant reads the day's orders
            await sell_diapers(client, 1)
            gql = make_gql(client)
            token = (await gql('mutation { shopperLogin(code: "dev:auntie") { token } }'))["data"]["shopperLogin"]["token"]
            await gql("query Me { me { id } }", token=token)
            await gql("query Orders { merchant { orders(first: 5) { nodes { number } } } }", key="sk_demo_panda")
            await gql("{ shop { nme } }")
        served.process.send_signal(signal.SIGTERM)
        served.process.wait(timeout=60)
        lines = served.lines()
    # then every line of the process is JSON, one per request with the id its answer carried
    assert lines and all(line.startswith("{") for line in lines), [ln for ln in lines if not ln.startswith("{")][:3]
    records = json_lines(lines)
    requests = [r for r in records if r["logger"] == "jimu.request" and r["path"] != "/readyz"]  # the start's probe
    assert [r["request_id"] for r in requests] == ids
    assert {r["operation"] for r in requests if r["path"] == "/graphql" and "operation" in r} >= {"Me", "Orders"}
    assert [r["error_codes"] for r in requests if "error_codes" in r] == [["GRAPHQL_VALIDATION_FAILED"]]
    assert any(r["logger"] == "jimu.webhooks" for r in records), "the settlement is logged"
    assert any(r["logger"] == "jimu.sweeper" and r["message"].startswith("sweeper stopped") for r in records)
    # and nothing secret is in the log: no key, no token, no secret
    text = "\n".join(lines)
    for secret in (*DEMO_SECRETS, settings.secret, token, token.split(".")[-1]):
        assert secret not in text


async def checkout_ready(gql, shopper: str) -> tuple[str, str]:
    """A signed-in shopper's cart of one pack with delivery chosen: (token, cart id)."""
    token = (await gql('mutation($c: String!) { shopperLogin(code: $c) { token } }', {"c": f"dev:{shopper}"}))[
        "data"]["shopperLogin"]["token"]
    cart = (await gql('mutation { cartCreate(lines: [{skuCode: "DIAPER-L54", quantity: 1}]) { cart { id } } }',
                      token=token))["data"]["cartCreate"]["cart"]
    chosen = await gql('mutation($id: ID!, $r: String!) { cartDeliverySet(cartId: $id, delivery: {region: $r, '
                       "tier: STANDARD}) { userErrors { code } } }", {"id": cart["id"], "r": REGION}, token=token)
    assert chosen["data"]["cartDeliverySet"]["userErrors"] == []
    return token, cart["id"]


CHECKOUT = ('mutation($id: ID!, $k: String!) { checkoutComplete(cartId: $id, idempotencyKey: $k) '
            "{ order { number } userErrors { code } } }")


async def reserved_and_sold(sql: Adapters, shop: Shop) -> int:
    [found] = await sql.goods.skus_by_code(shop.id, ["DIAPER-L54"])
    assert found is not None
    return sum(level.reserved for level in await sql.inventory.levels(shop.id, found.id))


async def test_sigterm_during_checkouts_finishes_those_in_flight(serve, demo: Adapters):
    [shop] = await demo.shops.shops_by_handle(["panda-care"])
    assert shop is not None
    with serve(JIMU_LOG_FORMAT="json") as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=60) as client:
            gql = make_gql(client)
            carts = [await checkout_ready(gql, f"shopper-{n}") for n in range(16)]
            before = await reserved_and_sold(demo, shop)

            async def checkout(token: str, cart_id: str) -> httpx.Response | Exception:
                try:
                    return await client.post("/graphql", json={"query": CHECKOUT, "variables": {"id": cart_id, "k": cart_id}},
                                             headers={"X-Jimu-Key": "pk_demo_panda", "Authorization": f"Bearer {token}"})
                except httpx.HTTPError as exc:
                    return exc

            # when SIGTERM arrives while the checkouts are being answered
            sent = [asyncio.create_task(checkout(*cart)) for cart in carts]
            await asyncio.sleep(0.05)
            served.process.send_signal(signal.SIGTERM)
            answers = await asyncio.gather(*sent)
        code = served.process.wait(timeout=60)
        records = json_lines(served.lines())
    # then the server stopped cleanly (uvicorn ends by raising the signal it caught again, once
    # it has shut down: -15 is that), after answering requests still in flight at the signal
    assert code in (0, -signal.SIGTERM)
    assert any(r["message"] == "Application shutdown complete." for r in records)
    finished = [r for r in records if r["logger"] == "jimu.request" and r["path"] == "/graphql"
                and r.get("operation") is None and r.get("kind") == "mutation"]
    shutting = next(r for r in records if r["message"].startswith("Shutting down"))
    assert any(r["time"] > shutting["time"] for r in finished), "no checkout was in flight at the signal"
    assert any(r["logger"] == "jimu.sweeper" and r["message"].startswith("sweeper stopped") for r in records)
    # every checkout that was taken was answered whole, and placed exactly what it says
    placed = [a for a in answers if isinstance(a, httpx.Response)]
    assert placed and all(a.status_code == 200 and a.json()["data"]["checkoutComplete"]["order"] for a in placed)
    assert all(isinstance(a, httpx.TransportError) for a in answers if not isinstance(a, httpx.Response))
    assert await reserved_and_sold(demo, shop) == before + len(placed)
