"""Sale day: a mix of reads, coupon claims and checkouts on PostgreSQL, then claims on their own.

A fresh PostgreSQL database gets the generated 60-product shop (bench/common.py);
``jimu serve --workers 4`` serves it (``--redis``: with ``JIMU_REDIS_URL``). Before
anything is measured, distinct shoppers are signed in (``shopperLogin(code:
"dev:<n>")``): one pool for the mix's claims, one for the claims-only run (each
shopper claims once: the template allows one per shopper), and a few buyers.

The mix, for ``--seconds``: each of ``--concurrency`` connections loops on a
weighted pick of

    40%  listing        the 20-product listing query (as in ``listing``)
    45%  product        ``product(handle:)`` of a random product: skus, availability,
                        deliveryOptions with slots, coupons
    10%  claim          ``couponClaim(templateId:)`` by a shopper who never claimed
     5%  checkout       three requests in a row by a signed-in buyer: ``cartCreate``
                        with one line (random SKU), ``cartDeliverySet`` (STANDARD),
                        ``checkoutComplete`` with a unique idempotency key

then, for ``--claim-seconds``, only claims (distinct shoppers, same workers).
A connection is closed and opened again every ``--ops-per-connection`` operations
(10): a kept-alive connection stays with the worker that accepted it, and 32
long-lived ones spread unevenly over 4 workers (one idle, one doing half the work).

Reported per kind: operations, operations/s, p50/p99 latency, and errors by reason
(HTTP status, GraphQL error code, userError code, or missing data), so a wrong mix
(all claims refused, checkouts failing) shows. Also: the servers' CPU per request
(the supervisor and all its workers, from /proc), the load generator's own CPU,
and a count check of the claimed template (issued = successful claims).

The load generator is this one Python process (asyncio, uvloop when installed,
a minimal keep-alive HTTP/1.1 client rather than httpx to spend less CPU). It
SHARES THE MACHINE'S TWO CORES with the four workers and PostgreSQL: its own CPU
share is printed; when it nears one core, the numbers measure the client too.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import shutil
import tempfile
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import common

WEIGHTS = {"listing": 40, "product": 45, "claim": 10, "checkout": 5}
KINDS = ["listing", "product", "claim", "checkout", "cartCreate", "cartDeliverySet", "checkoutComplete"]

LOGIN = 'mutation Login($code:String!){ shopperLogin(code:$code){ token userErrors{ code message } } }'
CLAIM = """mutation Claim($id:ID!){ couponClaim(templateId:$id){ coupon{ id state validUntil template{ code } }
    userErrors{ code field message } } }"""
CART_CREATE = """mutation CartCreate($sku:String!){ cartCreate(lines:[{skuCode:$sku, quantity:1}]){
    cart{ id lines{ quantity } cost{ total{ amount } } } userErrors{ code field message } } }"""
DELIVERY_SET = """mutation Delivery($cart:ID!, $region:String!){ cartDeliverySet(cartId:$cart,
    delivery:{region:$region, tier:STANDARD}){ cart{ id deliveryTier cost{ deliveryFee{ amount } total{ amount } }
    warnings{ code } } userErrors{ code field message } } }"""
CHECKOUT = """mutation Checkout($cart:ID!, $key:String!){ checkoutComplete(cartId:$cart, idempotencyKey:$key){
    order{ number status paymentStatus cost{ total{ amount } } } userErrors{ code field message } } }"""
TEMPLATE = "query T($h:String!){ product(handle:$h){ coupons{ id code totalQuantity remainingQuantity } } }"


def gql(query: str, **variables: object) -> bytes:
    return json.dumps({"query": query, "variables": variables}, separators=(",", ":")).encode()


class Connection:
    """One keep-alive HTTP/1.1 connection: POST /graphql, read status and body (Content-Length or chunked).

    A request on a kept-alive connection that the server has closed is sent once
    more on a new one; ``Connection.resent`` counts those (a worker that died shows there).
    """

    resent = 0

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.fresh = False

    async def post(self, body: bytes, headers: bytes) -> tuple[int, bytes]:
        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
                self.fresh = True
            assert self.reader is not None
            self.writer.write(b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                              b"Content-Length: %d\r\n%s\r\n%s" % (len(body), headers, body))
            try:
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionResetError("closed before the status line")
                result = await self._rest(int(status_line.split(b" ", 2)[1]))
                self.fresh = False
                return result
            except (ConnectionError, asyncio.IncompleteReadError):
                reused = not self.fresh
                self.close()
                if attempt or not reused:  # only a kept-alive connection the server closed is tried again
                    raise
                Connection.resent += 1
        raise AssertionError("unreachable")

    async def _rest(self, status: int) -> tuple[int, bytes]:
        assert self.reader is not None
        length, chunked, close = None, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(parts)
        else:
            body = await self.reader.readexactly(length or 0)
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def headers_for(token: str | None) -> bytes:
    out = b"X-Jimu-Key: " + common.PUBLISHABLE_KEY.encode() + b"\r\n"
    if token:
        out += b"Authorization: Bearer " + token.encode() + b"\r\n"
    return out


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: dict[str, Counter] = field(default_factory=lambda: {k: Counter() for k in KINDS})
    requests: int = 0
    claimed: int = 0
    no_shopper_left: int = 0


def problem(status: int, body: bytes, payload: str | None, wanted: str | None) -> tuple[dict | None, str | None]:
    """(the payload, None) when the answer is right, else (maybe the payload, a reason)."""
    if status != 200:
        return None, f"HTTP {status}"
    try:
        doc = json.loads(body)
    except ValueError:
        return None, "not JSON"
    if doc.get("errors"):
        first = doc["errors"][0]
        return None, "GraphQL " + str((first.get("extensions") or {}).get("code") or first.get("message", "")[:60])
    data = (doc.get("data") or {}).get(payload) if payload else doc.get("data")
    if data is None:
        return None, "no data"
    if payload and data.get("userErrors"):
        return data, "userError " + data["userErrors"][0]["code"]
    if wanted and not data.get(wanted):
        return data, f"no {wanted}"
    return data, None


class Load:
    def __init__(self, port: int, template_id: str, claim_pool: deque[bytes], buyers: list[bytes],
                 ops_per_connection: int = 0) -> None:
        self.port, self.template_id, self.claim_pool, self.buyers = port, template_id, claim_pool, buyers
        self.ops_per_connection = ops_per_connection
        self.stats = Stats()
        self.pool_ran_out = False
        self.anonymous = headers_for(None)
        self.listing_body = common.listing_body()
        self.product_bodies = [gql(common.PRODUCT, handle=f"p{i:02d}", region=common.REGION)
                               for i in range(common.PRODUCTS)]
        self.sku_codes = [f"P{i:02d}-{j}" for i in range(common.PRODUCTS) for j in range(common.SKUS_PER_PRODUCT)]

    async def timed(self, conn: Connection, kind: str, body: bytes, headers: bytes,
                    payload: str | None, wanted: str | None) -> dict | None:
        """Send one request; its latency is kept when the answer is right, else its error is counted."""
        t0 = time.perf_counter()
        try:
            status, answer = await conn.post(body, headers)
        except (ConnectionError, asyncio.IncompleteReadError, OSError) as exc:
            self.stats.errors[kind][f"connection {type(exc).__name__}"] += 1
            return None
        took = time.perf_counter() - t0
        self.stats.requests += 1
        data, reason = problem(status, answer, payload, wanted)
        if reason:
            self.stats.errors[kind][reason] += 1
            return None
        self.stats.latencies[kind].append(took)
        return data

    async def listing(self, conn: Connection) -> None:
        data = await self.timed(conn, "listing", self.listing_body, self.anonymous, None, "products")
        if data is not None and len(data["products"]["nodes"]) != 20:
            self.stats.latencies["listing"].pop()
            self.stats.errors["listing"]["not 20 products"] += 1

    async def product(self, conn: Connection) -> None:
        await self.timed(conn, "product", random.choice(self.product_bodies), self.anonymous, "product", None)

    async def claim(self, conn: Connection, count_missing: bool = True) -> bool:
        try:
            headers = self.claim_pool.popleft()
        except IndexError:
            self.stats.no_shopper_left += count_missing
            return False
        data = await self.timed(conn, "claim", gql(CLAIM, id=self.template_id), headers, "couponClaim", "coupon")
        if data is not None:
            self.stats.claimed += 1
        return True

    async def checkout(self, conn: Connection) -> None:
        headers = random.choice(self.buyers)
        t0 = time.perf_counter()
        steps = self.stats.errors["checkout"]
        cart = await self.timed(conn, "cartCreate", gql(CART_CREATE, sku=random.choice(self.sku_codes)), headers,
                                "cartCreate", "cart")
        if cart is None:
            steps["at cartCreate"] += 1
            return
        cart_id = cart["cart"]["id"]
        if await self.timed(conn, "cartDeliverySet", gql(DELIVERY_SET, cart=cart_id, region=common.REGION), headers,
                            "cartDeliverySet", "cart") is None:
            steps["at cartDeliverySet"] += 1
            return
        order = await self.timed(conn, "checkoutComplete",
                                 gql(CHECKOUT, cart=cart_id, key=f"bench-{uuid.uuid4().hex}"), headers,
                                 "checkoutComplete", "order")
        if order is None:
            steps["at checkoutComplete"] += 1
            return
        self.stats.latencies["checkout"].append(time.perf_counter() - t0)

    async def mix_worker(self, deadline: float) -> None:
        conn = Connection(self.port)
        kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
        done = 0
        try:
            while time.perf_counter() < deadline:
                kind = random.choices(kinds, weights)[0]
                if kind == "listing":
                    await self.listing(conn)
                elif kind == "product":
                    await self.product(conn)
                elif kind == "claim":
                    await self.claim(conn)
                else:
                    await self.checkout(conn)
                done += 1
                if self.ops_per_connection and done % self.ops_per_connection == 0:
                    conn.close()  # the next operation connects again, to whichever worker accepts
        finally:
            conn.close()

    async def claim_worker(self, deadline: float) -> None:
        conn = Connection(self.port)
        done = 0
        try:
            while time.perf_counter() < deadline:
                if not await self.claim(conn, count_missing=False):
                    self.pool_ran_out = True
                    return
                done += 1
                if self.ops_per_connection and done % self.ops_per_connection == 0:
                    conn.close()
        finally:
            conn.close()


async def sign_in(port: int, codes: list[str], concurrency: int) -> list[bytes]:
    """Bearer headers for each code, signed in through the gateway with ``concurrency`` connections."""
    todo = deque(enumerate(codes))
    tokens: list[bytes | None] = [None] * len(codes)
    failures: Counter = Counter()

    async def worker() -> None:
        conn = Connection(port)
        try:
            while todo:
                n, code = todo.popleft()
                status, body = await conn.post(gql(LOGIN, code=code), headers_for(None))
                data, reason = problem(status, body, "shopperLogin", "token")
                if reason:
                    failures[reason] += 1
                else:
                    assert data is not None
                    tokens[n] = headers_for(data["token"])
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    if failures:
        raise SystemExit(f"shopperLogin failed: {dict(failures)}")
    return [t for t in tokens if t is not None]


async def query(port: int, body: bytes, headers: bytes = b"") -> dict:
    conn = Connection(port)
    try:
        status, answer = await conn.post(body, headers or headers_for(None))
    finally:
        conn.close()
    if status != 200:
        raise SystemExit(f"HTTP {status}: {answer[:300]!r}")
    return json.loads(answer)


async def template_state(port: int) -> dict:
    doc = await query(port, gql(TEMPLATE, h="p00"))
    if doc.get("errors"):
        raise SystemExit(f"coupon template query failed: {doc['errors']}")
    found = [c for c in doc["data"]["product"]["coupons"] if c["code"] == common.CLAIM_TEMPLATE]
    if not found:
        raise SystemExit(f"template {common.CLAIM_TEMPLATE} is not among the claimable coupons: {doc}")
    return found[0]


def ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(title: str, stats: Stats, elapsed: float, cpu: Cpu, kinds: list[str]) -> dict:
    """Print and return one run: per kind, right answers, their rate and latency, and errors by reason."""
    steps = ("cartCreate", "cartDeliverySet", "checkoutComplete")
    ops = sum(len(stats.latencies[k]) + sum(stats.errors[k].values()) for k in kinds if k not in steps)
    print(f"\n{title}: {elapsed:.1f} s, {stats.requests} HTTP requests answered = {stats.requests / elapsed:.1f} req/s, "
          f"{ops} operations = {ops / elapsed:.1f} ops/s")
    n = stats.requests or 1
    per_req, pg_per_req = cpu.server / n * 1e6, cpu.postgres / n * 1e6
    others = cpu.machine_cores - (cpu.server + cpu.postgres + cpu.client) / elapsed  # the neighbours
    print(f"  CPU per request: gateway {per_req:.0f} us, postgres {pg_per_req:.0f} us."
          f"  Shares of one core: gateway {cpu.server / elapsed:.0%}, postgres {cpu.postgres / elapsed:.0%},"
          f" load generator {cpu.client / elapsed:.0%}; whole machine busy {cpu.machine_cores:.2f} of"
          f" {os.cpu_count()} cores, {others:.2f} of them others")
    print("  shares of one core by process under the supervisor: " + ", ".join(f"{v / elapsed:.0%}" for v in cpu.per_process))
    print(f"  {'kind':20} {'ok':>7} {'ok/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  error reasons")
    rows = {}
    for k in kinds:
        lat, errs = stats.latencies[k], stats.errors[k]
        ok, n_err = len(lat), sum(errs.values())
        reasons = ", ".join(f"{r}: {v}" for r, v in errs.most_common())
        label = f"  {k}" if k in steps else ("checkout (3 req)" if k == "checkout" else k)
        print(f"  {label:20} {ok:7d} {ok / elapsed:8.1f} {ms(lat, 0.5):8.1f} {ms(lat, 0.99):8.1f} {n_err:7d}  {reasons}")
        rows[k] = {"ok": ok, "per_s": ok / elapsed, "p50_ms": ms(lat, 0.5), "p99_ms": ms(lat, 0.99),
                   "errors": dict(errs)}
    if stats.no_shopper_left:
        print(f"  note: {stats.no_shopper_left} claims not sent: no signed-in shopper left (raise the shopper pool)")
    return {"elapsed": elapsed, "requests": stats.requests, "req_per_s": stats.requests / elapsed,
            "ops_per_s": ops / elapsed, "server_cpu_us_per_req": per_req, "postgres_cpu_us_per_req": pg_per_req,
            "client_cpu_share": cpu.client / elapsed, "machine_cores": cpu.machine_cores, "other_cores": others,
            "per_process_share": [v / elapsed for v in cpu.per_process], "kinds": rows,
            "no_shopper_left": stats.no_shopper_left}


def client_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


@dataclass
class Cpu:
    server: float  # the supervisor and its workers, seconds
    postgres: float  # the backends of the bench database, seconds
    client: float  # this process, seconds
    machine_cores: float  # the whole machine's busy share, in cores
    per_process: list[float] = field(default_factory=list)  # seconds of each process under the supervisor


async def measure(load: Load, worker, seconds: float, concurrency: int, server_pid: int,  # type: ignore[no-untyped-def]
                  pg: common.PostgresCpu) -> tuple[float, Cpu]:
    """Run ``concurrency`` workers until ``seconds`` have passed; each finishes its operation under way."""
    pg.start()
    machine = common.machine_ticks()
    procs0 = common.pid_cpu_seconds(common.descendants(server_pid))
    cpu0, me0, t0 = common.tree_cpu_seconds(server_pid), client_cpu(), time.perf_counter()
    deadline = t0 + seconds
    await asyncio.gather(*(worker(deadline) for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    cpu = Cpu(server=common.tree_cpu_seconds(server_pid) - cpu0, postgres=0.0, client=client_cpu() - me0,
              machine_cores=common.busy_share(machine, common.machine_ticks()))
    procs1 = common.pid_cpu_seconds(common.descendants(server_pid))
    cpu.per_process = sorted((v - procs0.get(p, 0.0) for p, v in procs1.items()), reverse=True)
    cpu.postgres = pg.seconds()
    return elapsed, cpu


async def run(args, port: int, server: common.Server, pg: common.PostgresCpu) -> dict:  # type: ignore[no-untyped-def]
    before = await template_state(port)
    template_id = before["id"]
    results: dict = {}

    warm = Load(port, template_id, deque(), [])
    deadline = time.perf_counter() + args.warmup
    await asyncio.gather(*(_reads(warm, deadline) for _ in range(8)))

    t0 = time.perf_counter()
    tag = uuid.uuid4().hex[:6]
    buyers = await sign_in(port, [f"dev:buyer-{tag}-{n}" for n in range(args.checkout_shoppers)], args.concurrency)
    mix_pool = await sign_in(port, [f"dev:mix-{tag}-{n}" for n in range(args.mix_shoppers)], args.concurrency)
    claim_pool = (await sign_in(port, [f"dev:claim-{tag}-{n}" for n in range(args.claim_shoppers)], args.concurrency)
                  if args.claim_seconds > 0 else [])
    signed = len(buyers) + len(mix_pool) + len(claim_pool)
    took = time.perf_counter() - t0
    print(f"signed in {signed} distinct shoppers in {took:.1f} s ({signed / took:.0f} logins/s)", flush=True)

    died_before = server.died_workers()
    load = Load(port, template_id, deque(mix_pool), buyers, args.ops_per_connection)
    elapsed, cpu = await measure(load, load.mix_worker, args.seconds, args.concurrency, server.pid, pg)
    results["mix"] = report(f"sale-day mix ({', '.join(f'{k} {w}%' for k, w in WEIGHTS.items())}), "
                            f"{args.concurrency} connections", load.stats, elapsed, cpu, KINDS)
    claimed = load.stats.claimed

    if args.claim_seconds > 0:
        solo = Load(port, template_id, deque(claim_pool), buyers, args.ops_per_connection)
        elapsed, cpu = await measure(solo, solo.claim_worker, args.claim_seconds, args.concurrency, server.pid, pg)
        results["claims"] = report(f"coupon claims on their own (distinct shoppers), {args.concurrency} connections",
                                   solo.stats, elapsed, cpu, ["claim"])
        if solo.pool_ran_out:
            print(f"  note: the pool of {len(claim_pool)} shoppers ran out after {elapsed:.1f} s "
                  f"(the rate above is over that time)")
        claimed += solo.stats.claimed

    after = await template_state(port)
    issued = before["remainingQuantity"] - after["remainingQuantity"]
    same = "ok" if issued == claimed else "MISMATCH"
    died = server.died_workers() - died_before
    print(f"\nworkers replaced by uvicorn's supervisor while measuring: {died}; before (at start-up, sign-in): "
          f"{died_before}")
    print(f"requests sent again after a kept-alive connection was closed under them: {Connection.resent}")
    results["resent"], results["workers_died_measuring"], results["workers_died_before"] = (
        Connection.resent, died, died_before)
    print(f"template {common.CLAIM_TEMPLATE}: remainingQuantity {before['remainingQuantity']} -> "
          f"{after['remainingQuantity']} = {issued} issued; successful claims seen {claimed}: {same}")
    results["claims_issued"] = issued
    results["claims_seen"] = claimed
    return results


async def _reads(load: Load, deadline: float) -> None:
    conn = Connection(load.port)
    try:
        while time.perf_counter() < deadline:
            await (load.listing(conn) if random.random() < 0.5 else load.product(conn))
    finally:
        conn.close()


def main(args) -> None:  # type: ignore[no-untyped-def]
    try:
        import uvloop  # noqa: PLC0415
        loop_factory = uvloop.new_event_loop
        loop_name = "uvloop"
    except ImportError:
        loop_factory, loop_name = None, "asyncio"
    workdir = Path(tempfile.mkdtemp(prefix="jimu-bench-mix-"))
    redis = f", JIMU_REDIS_URL={args.redis_url}" if args.redis else ""
    cache = os.environ.get("JIMU_RESPONSE_CACHE_SECONDS")
    print(f"mix: PostgreSQL, jimu serve --workers {args.workers}{redis}, JIMU_RESPONSE_CACHE_SECONDS="
          f"{cache if cache is not None else '(unset)'}; mix {args.seconds} s, claims {args.claim_seconds} s, "
          f"{args.concurrency} connections (new ones every {args.ops_per_connection or 'never'} operations), "
          f"load generator: 1 Python process ({loop_name}); {common.machine_note()}",
          flush=True)
    try:
        with common.database("postgresql", "mix") as url:
            env = {**os.environ, "JIMU_DATABASE_URL": url}
            env.pop("JIMU_REDIS_URL", None)
            if args.redis:
                env["JIMU_REDIS_URL"] = args.redis_url
            common.import_catalog(env, workdir)
            server = common.gateway(env, common.free_port(), workdir / "gateway-mix.log", workers=args.workers)
            try:
                server.wait_ready(workers=args.workers)
                print(f"{server.started_workers()} workers started", flush=True)
                with asyncio.Runner(loop_factory=loop_factory) as runner:  # 3.11 has no asyncio.run(loop_factory=)
                    results = runner.run(run(args, server.port, server, common.PostgresCpu(url)))
                results["rss"] = common.labelled_rss(server.pid)
                print(f"RSS: {results['rss']}")
            finally:
                server.stop()
            log = (workdir / "gateway-mix.log").read_text(errors="replace").splitlines()
            errors_in_log = [ln for ln in log if "Traceback" in ln or " 500 " in ln]
            print(f"server log: {len(errors_in_log)} tracebacks / 500s"
                  + (f", e.g. {errors_in_log[0][:200]}" if errors_in_log else ""))
            results["log_errors"] = len(errors_in_log)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"logs kept in {workdir}")
    print("BENCH-JSON mix " + json.dumps(results))
