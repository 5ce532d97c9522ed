"""Budgets where they belong: a secret key's bucket, none shared on a publishable key (a
client's own only when asked for), and default limits on the mutations scripts abuse."""

from __future__ import annotations

import time
from dataclasses import replace

import httpx

from adapters.shops.port import ShopPolicy
from adapters.shops.rules import hash_key
from gateway.settings import Rate, Settings
from gateway.wiring import Adapters
from tests.conftest import api_client, codes

SHOP = "{ shop { name onlinePaymentCap { amount } } }"  # costs 2, and its answer 2
LOGIN = 'mutation($c: String!) { shopperLogin(code: $c) { token } }'


async def budget(demo: Adapters, key: str, points: int, restore: int) -> None:
    found = await demo.shops.shop_for_key(hash_key(key))
    assert found is not None
    await demo.shops.set_policy(found[0].id, ShopPolicy(budget_points=points, budget_restore=restore))


async def post(client: httpx.AsyncClient, query: str, key: str, variables: dict | None = None,
               **headers: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables},
                             headers={"X-Jimu-Key": key, **headers})


async def test_a_secret_keys_bucket_admits_what_it_holds_then_429s(settings: Settings, demo: Adapters):
    await budget(demo, "sk_demo_panda", points=20, restore=1)
    async with api_client(settings, demo) as client:
        answers = [await post(client, SHOP, "sk_demo_panda") for _ in range(12)]
    admitted = [a for a in answers if a.status_code == 200]
    # 20 points at 2 each: 10, and perhaps one more restored while they ran
    assert 10 <= len(admitted) <= 11 and all(a.status_code == 429 for a in answers[len(admitted):])
    statuses = [a.json()["extensions"]["cost"]["throttleStatus"] for a in admitted]
    assert statuses[0] == {"maximumAvailable": 20, "currentlyAvailable": 18, "restoreRate": 1.0}
    assert [s["currentlyAvailable"] for s in statuses] == sorted((s["currentlyAvailable"] for s in statuses), reverse=True)
    refused = answers[-1]
    assert refused.headers["retry-after"] in ("1", "2")
    body = refused.json()
    assert body["data"] is None and codes(body) == ["THROTTLED"]
    assert body["errors"][0]["extensions"]["retryAfterSeconds"] == int(refused.headers["retry-after"])
    assert body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 20


async def test_what_an_answer_did_not_use_is_given_back(settings: Settings, demo: Adapters):
    await budget(demo, "sk_demo_panda", points=1000, restore=1)
    async with api_client(settings, demo) as client:
        body = (await post(client, "{ products(first: 50) { nodes { title } } }", "sk_demo_panda")).json()
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 51 and cost["actualQueryCost"] == 1 + len(body["data"]["products"]["nodes"])
    assert cost["throttleStatus"]["currentlyAvailable"] in range(1000 - cost["actualQueryCost"], 1001)


async def test_an_operation_above_the_bucket_is_too_costly_for_that_key(settings: Settings, demo: Adapters):
    await budget(demo, "sk_demo_panda", points=40, restore=1)
    async with api_client(settings, demo) as client:
        body = (await post(client, "{ products(first: 50) { nodes { title } } }", "sk_demo_panda")).json()
        fits = (await post(client, "{ products(first: 5) { nodes { title } } }", "sk_demo_panda")).json()
    assert codes(body) == ["MAX_COST_EXCEEDED"] and body["errors"][0]["extensions"]["maxCost"] == 40
    assert "errors" not in fits and fits["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] >= 34


async def test_a_publishable_key_is_never_throttled_by_default(settings: Settings, demo: Adapters):
    listing = '{ products(first: 20) { nodes { title skus { code availability(region: "1") { status } } } } }'
    async with api_client(replace(settings, response_cache_seconds=1), demo) as client:
        answers = [await post(client, listing, "pk_demo_panda") for _ in range(300)]
    assert {a.status_code for a in answers} == {200}
    assert all("throttleStatus" not in a.json()["extensions"]["cost"] for a in answers[:3])


async def test_with_client_budgets_each_shopper_or_address_has_its_own(settings: Settings, demo: Adapters):
    async with api_client(settings, demo) as client:
        token = (await post(client, LOGIN, "pk_demo_panda", {"c": "dev:budgeted"})).json()["data"]["shopperLogin"]["token"]
    async with api_client(replace(settings, client_budget=Rate(6, 0.001)), demo) as client:
        anonymous = [(await post(client, SHOP, "pk_demo_panda")).status_code for _ in range(4)]
        signed_in = [(await post(client, SHOP, "pk_demo_panda", Authorization=f"Bearer {token}")).status_code
                     for _ in range(4)]
        login = await post(client, LOGIN, "pk_demo_panda", {"c": "dev:budgeted"})
    assert anonymous == [200, 200, 200, 429]  # the address's 6 points, 2 a time
    assert signed_in == [200, 200, 200, 429]  # the shopper's own 6
    assert codes(login.json()) == ["MAX_COST_EXCEEDED"], "a login (10) never fits a budget of 6"


async def test_a_burst_of_logins_from_one_address_is_cut_off_past_its_limit(settings: Settings, demo: Adapters):
    # the default: 100 at once (a campus or a carrier's NAT puts many shoppers behind one address), 2 a second
    limit = Settings().login_limit
    async with api_client(settings, demo) as client:
        started = time.monotonic()
        statuses = [(await post(client, LOGIN, "pk_demo_panda", {"c": f"dev:burst{i}"})).status_code for i in range(400)]
        elapsed = time.monotonic() - started
        refused = await post(client, LOGIN, "pk_demo_panda", {"c": "dev:one-more"})
    admitted = statuses.count(200)
    assert limit.points <= admitted <= limit.points + limit.per_second * elapsed + 1
    assert statuses.count(429) == 400 - admitted and statuses[:limit.points] == [200] * limit.points
    assert refused.status_code == 429 and codes(refused.json()) == ["THROTTLED"]
    assert "too many shopperLogin calls" in refused.json()["errors"][0]["message"]


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_login_limit(settings: Settings, demo: Adapters):
    limited = replace(settings, login_limit=Rate(2, 0.001), trusted_proxies=("127.0.0.0/8",))
    async with api_client(limited, demo) as client:
        def login(forwarded: str) -> httpx.Response:
            return post(client, LOGIN, "pk_demo_panda", {"c": "dev:x"}, **{"X-Forwarded-For": forwarded})

        first = [(await login("198.51.100.1")).status_code for _ in range(3)]
        second = [(await login("198.51.100.2")).status_code for _ in range(3)]
    assert first == second == [200, 200, 429]
    async with api_client(replace(limited, trusted_proxies=()), demo) as client:  # the header is anyone's word
        spoofed = [(await post(client, LOGIN, "pk_demo_panda", {"c": "dev:x"}, **{"X-Forwarded-For": f"10.0.0.{i}"}))
                   .status_code for i in range(3)]
    assert spoofed == [200, 200, 429]


async def test_claims_are_limited_per_shopper(settings: Settings, demo: Adapters):
    templates = "{ products(first: 20) { nodes { coupons { id code } } } }"
    claim = 'mutation($t: ID!) { couponClaim(templateId: $t) { userErrors { code } } }'
    async with api_client(replace(settings, claim_limit=Rate(3, 0.001)), demo) as client:
        nodes = (await post(client, templates, "pk_demo_panda")).json()["data"]["products"]["nodes"]
        welcome = next(t["id"] for n in nodes for t in n["coupons"] if t["code"] == "WELCOME-20")
        tokens = [(await post(client, LOGIN, "pk_demo_panda", {"c": f"dev:claimer{i}"})).json()["data"]["shopperLogin"]
                  ["token"] for i in range(2)]
        one = [(await post(client, claim, "pk_demo_panda", {"t": welcome}, Authorization=f"Bearer {tokens[0]}"))
               .status_code for _ in range(4)]
        other = (await post(client, claim, "pk_demo_panda", {"t": welcome}, Authorization=f"Bearer {tokens[1]}"))
        aliased = (await post(client, "mutation($t: ID!) { a: couponClaim(templateId: $t) { userErrors { code } } "
                                      "b: couponClaim(templateId: $t) { userErrors { code } } }", "pk_demo_panda",
                              {"t": welcome}, Authorization=f"Bearer {tokens[1]}"))
        last = (await post(client, claim, "pk_demo_panda", {"t": welcome}, Authorization=f"Bearer {tokens[1]}"))
    assert one == [200, 200, 200, 429]
    assert other.status_code == 200, "another shopper has a limit of their own"
    assert (aliased.status_code, last.status_code) == (200, 429), "two aliases took two of the three"


async def test_no_member_or_method_escapes_the_charge(settings: Settings, demo: Adapters):
    limited = replace(settings, login_limit=Rate(3, 0.001))
    async with api_client(limited, demo) as client:
        # what strawberry ignores (another member, another extension) is charged as what it runs
        statuses = []
        for extra in ({}, {"extensions": {"x": 1}}, {"foo": 1}, {"extensions": {"persisted": None}}):
            body = {"query": LOGIN, "variables": {"c": "dev:escape"}, **extra}
            statuses.append((await client.post("/graphql", json=body, headers={"X-Jimu-Key": "pk_demo_panda"}))
                            .status_code)
        assert statuses == [200, 200, 200, 429]
    async with api_client(limited, demo) as client:
        # a mutation over GET is refused unrun, and takes nothing
        for _ in range(5):
            refused = await client.get("/graphql", params={"query": LOGIN, "variables": '{"c": "dev:get"}'},
                                       headers={"X-Jimu-Key": "pk_demo_panda"})
            assert refused.status_code == 400
        assert (await post(client, LOGIN, "pk_demo_panda", {"c": "dev:after-get"})).status_code == 200


async def test_an_answer_with_errors_gives_nothing_back(settings: Settings, demo: Adapters):
    await budget(demo, "sk_demo_panda", points=1000, restore=1)
    broken = "{ a: products(first: 50) { nodes { title } } b: products(first: 101) { nodes { id } } }"
    async with api_client(settings, demo) as client:
        body = (await post(client, broken, "sk_demo_panda")).json()
    assert codes(body) == ["BAD_USER_INPUT"] and body["data"] is None
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 51 + 101
    assert cost["throttleStatus"]["currentlyAvailable"] in range(1000 - 152, 1000 - 152 + 3), "no refund for a null"


async def test_a_float_page_size_costs_as_the_int_it_is(client: httpx.AsyncClient):
    query = ('query($n: Int) { products(first: $n) { nodes { skus { availability { status } '
             'deliveryOptions(region: "1") { fee { amount } } } } } }')
    body = (await post(client, query, "pk_demo_panda", {"n": 100.0})).json()
    assert codes(body) == ["MAX_COST_EXCEEDED"] and body["errors"][0]["extensions"]["cost"] == 10_101


async def test_a_document_whose_fragments_explode_is_refused_at_once(client: httpx.AsyncClient):
    fragments = "".join(f"fragment F{i} on Sku {{ a: product {{ skus {{ ...F{i + 1} }} }} "
                        f"b: product {{ skus {{ ...F{i + 1} }} }} }} " for i in range(30)) + "fragment F30 on Sku { code }"
    started = time.monotonic()
    body = (await post(client, '{ sku(code: "WIPES-80X6") { ...F0 } } ' + fragments, "pk_demo_panda")).json()
    assert time.monotonic() - started < 2
    assert codes(body) == ["MAX_COST_EXCEEDED"] and body["errors"][0]["extensions"]["cost"] > 10**9
