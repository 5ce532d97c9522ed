"""What the benchmarks share: the generated shop, the queries, databases, servers and /proc readings.

Nothing here imports the gateway: the servers are started as ``jimu`` from PATH
(the active venv's, or whatever is first on PATH), so the same scripts measure
any checkout of the project.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
PUBLISHABLE_KEY = "pk_bench_shop"
SECRET_KEY = "sk_bench_shop"
REGION = "1_72_2799_0"  # served by both warehouses BJ-01 ("1") and TJ-02 ("1_72")
PRODUCTS = 60
SKUS_PER_PRODUCT = 3
IMAGES_PER_PRODUCT = 2
CLAIM_TEMPLATE = "SALE-10"  # the public template the mix claims (huge total, one per shopper)
PUBLIC_TEMPLATES = ("SALE-10", "PLAT-5", "CAT-95", "SKU-20")  # claimable, each applies to every product
TIERS = ("STANDARD", "EXPRESS", "SCHEDULED")
PG_ADMIN = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qtA"]

LISTING = """query Listing($region:String!){ products(first:20){ nodes{ handle title brand
      priceRange{ min{ amount minorUnits } max{ amount minorUnits } } images{ url } coupons{ code title }
      skus{ code title price{ amount minorUnits } compareAtPrice{ amount }
            availability(region:$region){ status quantityAvailable }
            deliveryOptions(region:$region){ tier fee{ minorUnits } } } } } }"""

PRODUCT = """query Product($handle:String!, $region:String!){ product(handle:$handle){ handle title description brand
      tags priceRange{ min{ amount } max{ amount } } images{ url altText } category{ name parent{ name } }
      coupons{ id code title kind threshold{ amount } discount{ amount } percentOff remainingQuantity }
      skus{ code title options{ name value } price{ amount minorUnits } compareAtPrice{ amount } purchaseLimit
            availability(region:$region){ status quantityAvailable }
            deliveryOptions(region:$region){ tier title fee{ amount minorUnits } features
                                             slots{ id startsAt endsAt remainingCapacity } } } } }"""


def listing_body() -> bytes:
    return json.dumps({"query": LISTING, "variables": {"region": REGION}}, separators=(",", ":")).encode()


def bench_catalog() -> dict:
    """A ``jimu.catalog/1`` shop of 60 products x 3 SKUs x 2 images, 3 tiers, 4 public coupons + 1 hidden."""
    categories = [{"handle": "all", "name": "全部商品"}] + [
        {"handle": f"c{i}", "name": f"类目 {i}", "parent": "all"} for i in range(6)
    ]
    products = []
    for i in range(PRODUCTS):
        skus = []
        for j in range(SKUS_PER_PRODUCT):
            price = 3900 + (i * 7 + j * 3000) % 30000  # some above the 99-yuan free-shipping line
            skus.append({
                "code": f"P{i:02d}-{j}", "title": f"规格 {j}", "options": {"size": "SML"[j]},
                "price": price, "compareAtPrice": price + 2000,
                # large: the mix's checkouts must never run out (unpaid orders hold stock for 30 min)
                "stock": {"BJ-01": 1_000_000, "TJ-02": 500_000 + i, "SH-01": 1000},
            })
        products.append({
            "handle": f"p{i:02d}", "title": f"大促商品 {i}", "brand": f"品牌{i % 5}",
            "description": "Bench product. " * 8, "category": f"c{i % 6}", "tags": ["bench", f"t{i % 4}"],
            "images": [{"url": f"https://img.example.com/bench/p{i:02d}-{k}.jpg", "altText": f"图 {k}"}
                       for k in range(IMAGES_PER_PRODUCT)],
            "skus": skus,
        })
    window = {"claimStartsAt": "-1d", "claimEndsAt": "+30d", "validDays": 30}
    big = {"totalQuantity": 10_000_000, "perShopperLimit": 1}  # the largest allowed
    return {
        "format": "jimu.catalog/1",
        "shop": {"handle": "bench-shop", "name": "Bench 大促店",
                 "keys": {"publishable": PUBLISHABLE_KEY, "secret": SECRET_KEY}},
        "categories": categories,
        "warehouses": [
            {"code": "BJ-01", "regions": ["1", "3"]},
            {"code": "TJ-02", "regions": ["1_72", "2"]},
            {"code": "SH-01", "regions": ["12", "15"]},
        ],
        "products": products,
        "delivery": {"tiers": [
            {"tier": "STANDARD", "title": "标准配送", "fee": 600, "freeAbove": 9900, "regions": ["*"],
             "remoteSurcharge": {"26": 1000, "31": 1000}},
            {"tier": "EXPRESS", "title": "次日达", "fee": 1500, "regions": ["1", "2", "19"]},
            {"tier": "SCHEDULED", "title": "预约送达", "fee": 500, "regions": ["1", "2"],
             "features": ["APPOINTMENT"],
             "slots": {"days": 3, "windows": ["09:00-11:00", "11:00-13:00", "13:00-15:00", "15:00-17:00",
                                               "17:00-19:00", "19:00-21:00"],
                       "capacity": 100_000, "timezone": "Asia/Shanghai"}},
        ]},
        "coupons": [
            {"code": "SALE-10", "title": "满 99 减 10", "kind": "AMOUNT_OFF", "threshold": 9900, "discount": 1000,
             "scope": "SHOP", **big, **window},
            {"code": "PLAT-5", "title": "平台无门槛 5 元", "kind": "AMOUNT_OFF", "discount": 500, "scope": "SHOP",
             "stackingGroup": "PLATFORM", **big, **window},
            {"code": "CAT-95", "title": "全场 95 折", "kind": "PERCENT_OFF", "threshold": 5000, "percentOff": 5,
             "scope": "CATEGORY", "categoryHandle": "all", **big, **window},
            {"code": "SKU-20", "title": "指定商品满 199 减 20", "kind": "AMOUNT_OFF", "threshold": 19900,
             "discount": 2000, "scope": "SKUS", "skuCodes": [s["code"] for p in products for s in p["skus"]],
             **big, **window},
            {"code": "HIDDEN-50", "title": "隐藏券（不出现在列表）", "kind": "AMOUNT_OFF", "threshold": 29900,
             "discount": 5000, "scope": "SHOP", "hidden": True, "totalQuantity": 1000, "validDays": 7},
        ],
    }


def check_listing(answer: bytes) -> list[str]:
    """Every way the listing answer differs from what the bench shop must give (empty when right)."""
    try:
        doc = json.loads(answer)
    except ValueError:
        return [f"not JSON: {answer[:200]!r}"]
    problems = []
    if "errors" in doc:
        problems.append("errors: " + json.dumps(doc["errors"], ensure_ascii=False)[:600])
    nodes = ((doc.get("data") or {}).get("products") or {}).get("nodes") or []
    if len(nodes) != 20:
        problems.append(f"{len(nodes)} nodes, not 20")
    for node in nodes:
        h = node.get("handle")
        if len(node.get("coupons") or []) != len(PUBLIC_TEMPLATES):
            problems.append(f"{h}: {len(node.get('coupons') or [])} coupons, not {len(PUBLIC_TEMPLATES)}")
        if len(node.get("images") or []) != IMAGES_PER_PRODUCT:
            problems.append(f"{h}: {len(node.get('images') or [])} images, not {IMAGES_PER_PRODUCT}")
        skus = node.get("skus") or []
        if len(skus) != SKUS_PER_PRODUCT:
            problems.append(f"{h}: {len(skus)} skus, not {SKUS_PER_PRODUCT}")
        for sku in skus:
            tiers = [o.get("tier") for o in sku.get("deliveryOptions") or []]
            if sorted(tiers) != sorted(TIERS):
                problems.append(f"{sku.get('code')}: delivery options {tiers}, not {list(TIERS)}")
            if (sku.get("availability") or {}).get("status") != "IN_STOCK":
                problems.append(f"{sku.get('code')}: availability {sku.get('availability')}")
    return problems


# --- databases -------------------------------------------------------------------------------


@contextmanager
def database(kind: str, label: str) -> Iterator[str]:
    """A fresh database URL: a temp SQLite file, or a new PostgreSQL database dropped (FORCE) after."""
    if kind == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix=f"jimu-bench-{label}-"))
        try:
            yield f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    if kind != "postgresql":
        raise ValueError(kind)
    name = f"jimu_bench_{label}_{os.getpid()}_{int(time.time())}"
    subprocess.run([*PG_ADMIN, "-c", f"CREATE DATABASE {name}"], check=True)
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        subprocess.run([*PG_ADMIN, "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


def import_catalog(env: dict[str, str], workdir: Path) -> None:
    """Write the bench catalog and ``jimu import`` it (which migrates first)."""
    path = workdir / "bench-catalog.json"
    path.write_text(json.dumps(bench_catalog(), ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([jimu(), "import", str(path)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"jimu import failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def jimu() -> str:
    found = shutil.which("jimu")
    if found is None:
        raise SystemExit("no `jimu` on PATH: activate the venv of the checkout to measure")
    return found


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process started in its own process group, stopped (group and all) on exit."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.name, self.port, self.log = name, port, log
        self._log_file = open(log, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(cmd, env=env, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def url(self, path: str = "/graphql") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, path: str = "/healthz", timeout: float = 120.0, workers: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url(path), timeout=2) as r:
                    if r.status == 200 and (workers == 1 or self.started_workers() >= workers):
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.name} did not come up in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM to the server (uvicorn's supervisor stops its workers), SIGKILL to the group if it hangs."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, 9)  # the group made for this server: whatever of it is left
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        self._log_file.close()

    def started_workers(self) -> int:
        return self.log.read_text(errors="replace").count("Application startup complete")

    def died_workers(self) -> int:
        """Workers uvicorn's supervisor found dead or hung (no answer to its ping in 5 s) and replaced."""
        return sum(1 for ln in self.log.read_text(errors="replace").splitlines() if "Child process" in ln and "died" in ln)


def gateway(env: dict[str, str], port: int, log: Path, workers: int = 1) -> Server:
    """``jimu serve``; with several workers its log is unbuffered, to see them start (and die) as it happens."""
    cmd = [jimu(), "serve", "--port", str(port)] + (["--workers", str(workers)] if workers != 1 else [])
    env = {"JIMU_ENV": "development", **env}  # a server must be told where it runs (older ones ignore it)
    return Server("gateway", cmd, {**env, "PYTHONUNBUFFERED": "1"} if workers != 1 else env, port, log)


def bare(answer_file: Path, port: int, log: Path) -> Server:
    return Server("bare", [sys.executable, str(HERE / "bare.py"), str(answer_file), str(port)], dict(os.environ),
                  port, log)


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"content-type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# --- /proc -----------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return raw[raw.rindex(")") + 2:].split()  # [0] is field 3 (state); comm may hold spaces


def children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tasks:
        try:
            out += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return out


def descendants(pid: int) -> list[int]:
    found, todo = [], children(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo += children(child)
    return found


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of the process and every living descendant (each /proc/<pid>/stat counts all threads)."""
    ticks = 0
    for p in [pid, *descendants(pid)]:
        fields = _stat_fields(p)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])  # fields 14 and 15: utime, stime
    return ticks / CLOCK_TICKS


def wait_idle(pid: int, quiet: float = 0.3, timeout: float = 60.0) -> float:
    """Wait until the process tree has used under 5% of a core for ``quiet`` seconds; its CPU seconds then."""
    deadline = time.monotonic() + timeout
    last = tree_cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = tree_cpu_seconds(pid)
        if now - last < 0.05 * quiet + 1.5 / CLOCK_TICKS:
            return now
        last = now
    return last


def pid_cpu_seconds(pids: list[int]) -> dict[int, float]:
    out = {}
    for p in pids:
        fields = _stat_fields(p)
        if fields is not None:
            out[p] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return out


class PostgresCpu:
    """CPU of the PostgreSQL backends serving one database (pids from pg_stat_activity), between two reads.

    Backends that appear between the reads count from zero; one that ends between
    them loses what it used (the gateway's pool keeps its connections, so rarely).
    """

    def __init__(self, url: str | None) -> None:
        self.name = url.rsplit("/", 1)[1] if url and url.startswith("postgresql") else None
        self.before: dict[int, float] = {}

    def pids(self) -> list[int]:
        if self.name is None:
            return []
        done = subprocess.run([*PG_ADMIN, "-c", f"SELECT pid FROM pg_stat_activity WHERE datname = '{self.name}'"],
                              capture_output=True, text=True, check=True)
        return [int(x) for x in done.stdout.split()]

    def start(self) -> None:
        self.before = pid_cpu_seconds(self.pids())

    def seconds(self) -> float:
        if self.name is None:
            return 0.0
        now = pid_cpu_seconds(self.pids())
        return sum(v - self.before.get(p, 0.0) for p, v in now.items())


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already in user
    return total - idle, total


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The machine's busy share over the interval, in cores (0..ncpu)."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total * (os.cpu_count() or 1) if total else float("nan")


def labelled_rss(pid: int) -> str:
    parts = [f"supervisor {rss_mb(pid):.0f} MB"]
    for child in descendants(pid):
        try:
            cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except FileNotFoundError:
            continue
        label = "resource tracker" if "resource_tracker" in cmd else "worker"
        parts.append(f"{label} {rss_mb(child):.0f} MB")
    return ", ".join(parts)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def machine_note() -> str:
    load = Path("/proc/loadavg").read_text().split()[:3]
    return f"cores {os.cpu_count()}, load average {' '.join(load)}, jimu {jimu()}"
