"""No interleaving of processes sells more than the stock, or moves a reservation twice.

Real processes, each with its own connections, on the suite's database
(SQLite by default, PostgreSQL in .ci/run).
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections import Counter
from datetime import timedelta

from adapters.catalog.format import parse_catalog
from adapters.db import utcnow
from adapters.inventory.port import ReservationState, WantedLine
from adapters.shops.rules import hash_key
from gateway.wiring import Adapters
from tests.concurrency import workers
from tests.factories import catalog, product, sku

PROCESSES = 4
spawn = multiprocessing.get_context("spawn")


async def shop_with(sql: Adapters, stock: int) -> tuple[int, int]:
    data = catalog("race", [product("hot", skus=[sku("HOT", stock={"BJ": stock})])],
                   warehouses=[{"code": "BJ", "regions": ["1"]}])
    await sql.catalog.apply(parse_catalog(data, utcnow()), utcnow())
    shop = await sql.shops.shop_for_key(hash_key("pk_test_race"))
    assert shop is not None
    [hot] = await sql.goods.skus_by_code(shop[0].id, ["HOT"])
    assert hot is not None
    return shop[0].id, hot.id


def run_all(targets: list[tuple], timeout: float = 120, **options) -> list:
    out = spawn.Queue()
    barrier = spawn.Barrier(len(targets))
    processes = [
        spawn.Process(target=workers.entry, args=(name, *args, barrier, out), kwargs=options) for name, args in targets
    ]
    for process in processes:
        process.start()
    results = []
    deadline = time.monotonic() + timeout
    while len(results) < len(processes):
        try:
            results.append(out.get(timeout=1))
        except queue.Empty:
            dead = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
            assert not dead and time.monotonic() < deadline, f"workers failed: exit codes {dead}"
    for process in processes:
        process.join(timeout=timeout)
    errors = [r[1] for r in results if isinstance(r, tuple) and r[0] == "error"]
    assert not errors, errors[0]
    return results


async def test_hundred_buyers_in_four_processes_get_exactly_the_ten_units(database_url: str, sql: Adapters):
    # given 10 units
    shop_id, sku_id = await shop_with(sql, stock=10)
    refs = [f"buyer-{i}" for i in range(100)]
    # when 100 one-unit reservations race from 4 processes
    batches = [refs[i::PROCESSES] for i in range(PROCESSES)]
    results = run_all([("reserve_one_each", (database_url, shop_id, sku_id, b)) for b in batches])
    # then exactly 10 succeed, the rest are told out of stock, and nothing is oversold
    outcomes = Counter(outcome for batch in results for outcome in batch)
    assert outcomes == {"reserved": 10, "out of stock": 90}
    [level] = await sql.inventory.levels(shop_id, sku_id)
    assert (level.on_hand, level.reserved, level.available) == (10, 10, 0)


async def test_expiry_racing_commits_lets_exactly_one_win_each_reservation(database_url: str, sql: Adapters):
    # given 30 reservations that are all already due to expire
    shop_id, sku_id = await shop_with(sql, stock=30)
    due = utcnow() - timedelta(seconds=1)
    held = [
        await sql.inventory.reserve(shop_id, f"r{i}", None, "1", [WantedLine(sku_id, 1)], due) for i in range(30)
    ]
    ids = [r.id for r in held]
    # when one process pays them all while two others sweep
    results = run_all(
        [
            ("commit_all", (database_url, shop_id, ids)),
            ("sweep", (database_url, utcnow())),
            ("sweep", (database_url, utcnow())),
        ]
    )
    committed = {r for kind, batch in results if kind == "commit" for r in batch}
    expired = [r for kind, batch in results if kind == "sweep" for r in batch]
    # then every reservation ended exactly one way, and stock counted each unit once
    states = Counter()
    for reservation_id in ids:
        found = await sql.inventory.reservation(shop_id, reservation_id)
        states[found.state] += 1
        assert (found.state is ReservationState.COMMITTED) == (reservation_id in committed)
    assert states[ReservationState.COMMITTED] + states[ReservationState.EXPIRED] == 30
    assert len(expired) == len(set(expired)) == states[ReservationState.EXPIRED]
    [level] = await sql.inventory.levels(shop_id, sku_id)
    assert (level.reserved, level.sold, level.available) == (0, len(committed), 30 - len(committed))


async def test_several_sweepers_expire_each_reservation_once(database_url: str, sql: Adapters):
    # given 40 due reservations
    shop_id, sku_id = await shop_with(sql, stock=40)
    due = utcnow() - timedelta(seconds=1)
    for i in range(40):
        await sql.inventory.reserve(shop_id, f"s{i}", None, "1", [WantedLine(sku_id, 1)], due)
    # when three processes sweep at once
    results = run_all([("sweep", (database_url, utcnow())) for _ in range(3)])
    # then each was expired by exactly one of them, and every unit is back once
    expired = [r for _, batch in results for r in batch]
    assert len(expired) == 40 and len(set(expired)) == 40
    [level] = await sql.inventory.levels(shop_id, sku_id)
    assert (level.reserved, level.available) == (0, 40)


async def test_one_shopper_racing_twenty_orders_gets_the_limit_and_no_more(database_url: str, sql: Adapters):
    # given plenty of stock but a limit of one per shopper
    shop_id, sku_id = await shop_with(sql, stock=100)
    refs = [f"greedy-{i}" for i in range(20)]
    # when the same shopper reserves 20 times at once from 4 processes
    batches = [refs[i::PROCESSES] for i in range(PROCESSES)]
    results = run_all([("reserve_one_each", (database_url, shop_id, sku_id, b)) for b in batches], shopper_id=42, limit=1)
    # then
    outcomes = Counter(outcome for batch in results for outcome in batch)
    assert outcomes == {"reserved": 1, "over the limit": 19}
    [level] = await sql.inventory.levels(shop_id, sku_id)
    assert (level.reserved, level.available) == (1, 99)
