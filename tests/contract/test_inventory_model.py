"""Random sequences of reserve/commit/release/expire/stockSet against a reference model.

After every step, for every (SKU, warehouse): on_hand == available + reserved + sold,
each counter equals the model's, none is negative, and no shopper holds more
than a SKU's limit. Runs on the fake and on the suite's SQL database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from adapters.catalog.format import parse_catalog
from adapters.db import Database, utcnow
from adapters.inventory.port import (
    OutOfStock,
    PurchaseLimitExceeded,
    ReservationState,
    WantedLine,
)
from adapters.shops.rules import hash_key
from gateway.settings import Settings
from gateway.wiring import Adapters, fake_adapters, sql_adapters
from tests.contract.models import model_examples
from tests.factories import catalog, product, sku

WAREHOUSES = {"N": ["1"], "S": ["19"], "ALL": ["*"]}
REGIONS = ["1", "19_1601", "26"]
SKUS = {"A": None, "B": 3}  # code -> purchase limit
START = {"N": 6, "S": 4, "ALL": 2}  # every SKU's stock per warehouse at the start
SHOPPERS = [None, 1, 2]


def machine_for(make_adapters):
    class InventoryModel(RuleBasedStateMachine):
        reservations = Bundle("reservations")

        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.adapters: Adapters = self.run(make_adapters())
            self.now = utcnow()
            handle = f"m-{uuid.uuid4().hex[:10]}"
            data = catalog(
                handle,
                [product(code.lower(), skus=[sku(code, purchaseLimit=limit, stock=START)]) for code, limit in SKUS.items()],
                warehouses=[{"code": c, "regions": r} for c, r in WAREHOUSES.items()],
            )
            self.run(self.adapters.catalog.apply(parse_catalog(data, self.now), self.now))
            shop = self.run(self.adapters.shops.shop_for_key(hash_key(f"pk_test_{handle}")))
            self.shop = shop[0].id
            found = self.run(self.adapters.goods.skus_by_code(self.shop, list(SKUS)))
            self.sku = {s.code: s.id for s in found}
            self.available: dict[tuple[int, str], int] = defaultdict(int)
            for sku_id in self.sku.values():
                for warehouse, quantity in START.items():
                    self.available[(sku_id, warehouse)] = quantity
            self.held: dict[int, tuple] = {}  # reservation id -> (state, shopper, lines)
            self.count = 0

        def run(self, coroutine):
            return self.loop.run_until_complete(coroutine)

        def teardown(self) -> None:
            self.run(self.adapters.close())
            self.loop.close()

        def _counted(self, state: ReservationState) -> dict[tuple[int, str], int]:
            totals: dict[tuple[int, str], int] = defaultdict(int)
            for held_state, _, lines in self.held.values():
                if held_state is state:
                    for line in lines:
                        totals[(line.sku_id, line.warehouse_code)] += line.quantity
            return totals

        @rule(code=st.sampled_from(list(SKUS)), warehouse=st.sampled_from(list(WAREHOUSES)),
              quantity=st.integers(0, 6))
        def stock_set(self, code, warehouse, quantity):
            self.run(self.adapters.inventory.set_available(self.shop, self.sku[code], warehouse, quantity))
            self.available[(self.sku[code], warehouse)] = quantity

        @rule(target=reservations, wants=st.lists(st.tuples(st.sampled_from(list(SKUS)), st.integers(1, 4)),
                                                  min_size=1, max_size=3),
              region=st.sampled_from(REGIONS), shopper=st.sampled_from(SHOPPERS), ttl=st.integers(1, 3))
        def reserve(self, wants, region, shopper, ttl):
            lines = [WantedLine(self.sku[c], q, SKUS[c]) for c, q in wants]
            self.count += 1
            try:
                made = self.run(self.adapters.inventory.reserve(
                    self.shop, f"r{self.count}", shopper, region, lines, self.now + timedelta(minutes=ttl)))
            except (OutOfStock, PurchaseLimitExceeded) as refused:
                self._check_refusal(refused, lines, region, shopper)
                return None
            self._check_refusal(None, lines, region, shopper)
            for line in made.lines:
                self.available[(line.sku_id, line.warehouse_code)] -= line.quantity
            self.held[made.id] = (ReservationState.ACTIVE, shopper, made.lines)
            return made.id

        def _check_refusal(self, refused, lines, region, shopper):
            wanted: dict[int, int] = defaultdict(int)
            for line in lines:
                wanted[line.sku_id] += line.quantity
            serving = [w for w, rules in WAREHOUSES.items() if rules == ["*"] or region.split("_")[0] in rules]
            short = sorted(s for s, q in wanted.items() if sum(self.available[(s, w)] for w in serving) < q)
            if short:
                assert isinstance(refused, OutOfStock) and refused.sku_ids == short
                return
            over = []
            for code, limit in SKUS.items():
                s = self.sku[code]
                if limit is not None and shopper is not None and s in wanted:
                    if self._holding(shopper, s) + wanted[s] > limit:
                        over.append(s)
            if over:
                assert isinstance(refused, PurchaseLimitExceeded) and refused.sku_ids == sorted(over)
            else:
                assert refused is None, refused

        def _holding(self, shopper, sku_id) -> int:
            return sum(line.quantity for state, who, lines in self.held.values() for line in lines
                       if who == shopper and line.sku_id == sku_id
                       and state in (ReservationState.ACTIVE, ReservationState.COMMITTED))

        @rule(reservation=reservations)
        def commit(self, reservation):
            if reservation is None:
                return
            state, shopper, lines = self.held[reservation]
            ok = self.run(self.adapters.inventory.commit(self.shop, reservation))
            assert ok is (state is ReservationState.ACTIVE)
            if ok:
                self.held[reservation] = (ReservationState.COMMITTED, shopper, lines)

        @rule(reservation=consumes(reservations))
        def release(self, reservation):
            if reservation is None:
                return
            state, shopper, lines = self.held[reservation]
            ok = self.run(self.adapters.inventory.release(self.shop, reservation))
            assert ok is (state in (ReservationState.ACTIVE, ReservationState.COMMITTED))
            if ok:
                for line in lines:
                    self.available[(line.sku_id, line.warehouse_code)] += line.quantity
                self.held[reservation] = (ReservationState.RELEASED, shopper, lines)

        @rule(minutes=st.integers(1, 2))
        def time_passes_and_the_sweep_runs(self, minutes):
            self.now += timedelta(minutes=minutes)
            expired = self.run(self.adapters.inventory.expire_due(self.now, limit=1000))
            for reservation in expired:
                if reservation.shop_id != self.shop:
                    continue  # another example's shop in the same database
                state, shopper, lines = self.held[reservation.id]
                assert state is ReservationState.ACTIVE and reservation.expires_at <= self.now
                for line in lines:
                    self.available[(line.sku_id, line.warehouse_code)] += line.quantity
                self.held[reservation.id] = (ReservationState.EXPIRED, shopper, lines)

        @invariant()
        def counts_hold(self):
            reserved = self._counted(ReservationState.ACTIVE)
            sold = self._counted(ReservationState.COMMITTED)
            for code, sku_id in self.sku.items():
                for level in self.run(self.adapters.inventory.levels(self.shop, sku_id)):
                    key = (sku_id, level.warehouse_code)
                    assert level.on_hand == level.available + level.reserved + level.sold
                    assert min(level.available, level.reserved, level.sold) >= 0
                    assert (level.available, level.reserved, level.sold) == (
                        self.available[key], reserved[key], sold[key]), (code, level)
                limit = SKUS[code]
                for shopper in SHOPPERS:
                    if limit is not None and shopper is not None:
                        assert self._holding(shopper, sku_id) <= limit

    return InventoryModel


@pytest.mark.parametrize("kind", ["fake", "sql"])
def test_inventory_matches_its_model_after_every_step(kind: str, database_url: str):
    config = Settings(database_url=database_url)

    async def make() -> Adapters:
        if kind == "fake":
            return fake_adapters(config)
        return sql_adapters(config, Database(database_url))

    run_state_machine_as_test(
        machine_for(make),
        settings=settings(max_examples=model_examples(30 if kind == "fake" else 15), stateful_step_count=25,
                          deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )
