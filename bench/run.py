"""Gateway against a bare Starlette endpoint, in one run, reported as ratios.

Starts ``jimu serve`` (one worker, a SQLite file with 60 generated products
plus the demo shops) and a bare Starlette app that returns the very same JSON
bytes for each operation, then sends the same requests to both, round after
round, alternating which goes first. Prints the median throughput and latency
of each and the gateway/bare ratio. Two cores and a noisy machine: compare the
ratios, not the absolute numbers.

    python bench/run.py [--rounds 5] [--requests 400] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).parent
OPERATIONS = {
    "shop (1 field)": "{ shop { name } }",
    "20 products + skus + categories": """{ products(first: 20) { nodes { handle title
        priceRange { min { amount } } category { name parent { name } }
        skus { code price { amount } compareAtPrice { amount } } } } }""",
    "search, 10 products": '{ products(first: 10, filter: { query: "bench" }, sortKey: PRICE) '
    "{ totalCount nodes { handle skus { code } } } }",
    "20 products + stock + delivery": """{ products(first: 20) { nodes { handle
        skus { code availability(region: "1") { status quantityAvailable }
               deliveryOptions(region: "1") { tier fee { amount } } } } } }""",
}
# Needs a shopper and a cart, made after the server starts: the cart's id goes into the query.
CART = """{ cart(id: "%s") { lines { quantity sku { code } subtotal { amount } }
    deliveryOptions { tier fee { amount } }
    cost { subtotal { amount } deliveryFee { amount } total { amount } dueNow { amount } }
    warnings { code } } }"""
HEADERS = {"X-Jimu-Key": "pk_bench_shop", "content-type": "application/json"}


def bench_catalog() -> dict:
    return {
        "format": "jimu.catalog/1",
        "shop": {"handle": "bench-shop", "name": "Bench", "keys": {"publishable": "pk_bench_shop"}},
        "warehouses": [{"code": "BJ", "regions": ["1"]}],
        "delivery": {"tiers": [{"tier": "STANDARD", "title": "S", "fee": 600, "freeAbove": 9900, "regions": ["*"]}]},
        "categories": [{"handle": "root", "name": "Root"}]
        + [{"handle": f"c{i}", "name": f"Category {i}", "parent": "root"} for i in range(6)],
        "products": [
            {
                "handle": f"p{i:02d}",
                "title": f"Bench product {i}",
                "brand": "Bench",
                "category": f"c{i % 6}",
                "tags": ["bench"],
                "skus": [{"code": f"P{i:02d}-{j}", "title": f"v{j}", "price": 1000 + i * 10 + j,
                          "compareAtPrice": 2000, "stock": {"BJ": 10 * j}} for j in range(3)],
            }
            for i in range(60)
        ],
    }


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_ready(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(100):
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


async def shopper_cart(url: str) -> tuple[str, str]:
    """A signed-in shopper's token and a cart of 3 lines with STANDARD delivery to Beijing."""
    async with httpx.AsyncClient() as client:

        async def gql(query: str, token: str | None = None) -> dict:
            headers = {**HEADERS, **({"Authorization": f"Bearer {token}"} if token else {})}
            return (await client.post(url, json={"query": query}, headers=headers)).json()["data"]

        token = (await gql('mutation { shopperLogin(code: "dev:bench") { token } }'))["shopperLogin"]["token"]
        lines = ", ".join(f'{{skuCode: "P0{i}-1", quantity: {i + 1}}}' for i in range(3))
        cart = (await gql(f"mutation {{ cartCreate(lines: [{lines}]) {{ cart {{ id }} }} }}", token))
        cart_id = cart["cartCreate"]["cart"]["id"]
        await gql(f'mutation {{ cartDeliverySet(cartId: "{cart_id}", delivery: {{region: "1", tier: STANDARD}}) '
                  "{ cart { id } } }", token)
        return token, cart_id


async def load(url: str, body: bytes, requests: int, concurrency: int, headers: dict[str, str]) -> tuple[float, float]:
    """(requests per second, median latency in ms)."""
    latencies: list[float] = []
    queue = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            for _ in queue:
                t0 = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - t0)
                assert response.status_code == 200 and b'"errors"' not in response.content, response.text

        start_at = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start_at
    return requests / elapsed, statistics.median(latencies) * 1000


async def main(rounds: int, requests: int, concurrency: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="jimu-bench-"))
    env = {**os.environ, "JIMU_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bench.db'}"}
    (tmp / "bench.json").write_text(json.dumps(bench_catalog()), encoding="utf-8")
    subprocess.run(["jimu", "import", str(tmp / "bench.json")], env=env, check=True, capture_output=True)
    gateway = start(["jimu", "serve", "--port", "8731"], env)
    try:
        await wait_ready("http://127.0.0.1:8731/healthz")
        token, cart_id = await shopper_cart("http://127.0.0.1:8731/graphql")
        operations = {**OPERATIONS, "cart, 3 lines, priced": CART % cart_id}
        headers = {name: HEADERS for name in OPERATIONS} | {"cart, 3 lines, priced": {**HEADERS, "Authorization": f"Bearer {token}"}}
        bodies = {name: json.dumps({"query": q}).encode() for name, q in operations.items()}
        async with httpx.AsyncClient() as client:  # the bare app answers the gateway's exact bytes
            answers = {
                name: (await client.post("http://127.0.0.1:8731/graphql", content=b, headers=headers[name])).content
                for name, b in bodies.items()
            }
        (tmp / "answers.json").write_text(json.dumps({n: a.decode() for n, a in answers.items()}), encoding="utf-8")
        bare = start([sys.executable, str(HERE / "bare.py"), str(tmp / "answers.json"), "8732"], env)
        try:
            await wait_ready("http://127.0.0.1:8732/healthz")
            print(f"{rounds} rounds x {requests} requests, concurrency {concurrency}; medians\n")
            print(f"{'operation':34} {'gateway rps':>12} {'bare rps':>10} {'ratio':>7} {'gw p50 ms':>10} {'bare p50 ms':>12}")
            for name, body in bodies.items():
                gw, br = [], []
                for r in range(rounds):
                    pair = [("gw", "http://127.0.0.1:8731/graphql"), ("bare", f"http://127.0.0.1:8732/{name}")]
                    for label, url in pair if r % 2 == 0 else pair[::-1]:
                        (gw if label == "gw" else br).append(await load(url, body, requests, concurrency, headers[name]))
                g_rps = statistics.median(x[0] for x in gw)
                b_rps = statistics.median(x[0] for x in br)
                g_lat = statistics.median(x[1] for x in gw)
                b_lat = statistics.median(x[1] for x in br)
                print(f"{name:34} {g_rps:12.0f} {b_rps:10.0f} {g_rps / b_rps:7.2f} {g_lat:10.1f} {b_lat:12.1f}")
        finally:
            bare.terminate()
    finally:
        gateway.terminate()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.requests, args.concurrency))
