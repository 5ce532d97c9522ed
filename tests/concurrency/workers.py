"""Work run in separate processes: each opens its own engine and connections.

Every worker races ``one(port, item)`` for each of its items, all at once,
after the others have connected and reached the barrier.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from adapters.coupons.port import CouponError, RevisionRefused, Source, TemplateChanged
from adapters.coupons.sql import SqlCoupons
from adapters.db import Database, utcnow
from adapters.delivery.port import SlotFull
from adapters.delivery.sql import SqlDelivery
from adapters.inventory.port import OutOfStock, PurchaseLimitExceeded, WantedLine
from adapters.inventory.sql import SqlInventory
from adapters.members.port import AssistError
from adapters.members.sql import SqlMembers
from gateway.settings import Settings
from gateway.wiring import checkout_for, sql_adapters


def entry(name: str, *args: Any, **options: Any) -> None:
    """Process target: run the named work; an exception goes onto ``out`` as text, not lost."""
    out = args[-1]
    try:
        WORK[name](*args, **options)
    except BaseException:  # the parent must hear of any failure, not wait for it
        out.put(("error", traceback.format_exc()))


def _race(
    url: str,
    barrier: Any,
    make: Callable[[Database], Any],
    one: Callable[[Any, Any], Awaitable[Any]],
    items: Sequence[Any],
) -> list[Any]:
    async def run() -> list[Any]:
        db = Database(url)
        port = make(db)
        assert await db.ping()  # connect before the start line, so the race is the requests'
        await asyncio.to_thread(barrier.wait)
        try:
            return list(await asyncio.gather(*(one(port, item) for item in items)))
        finally:
            await db.dispose()

    return asyncio.run(run())


def _reserve_one_each(
    url: str, shop_id: int, sku_id: int, refs: list[str], barrier: Any, out: Any,
    shopper_id: int | None = None, limit: int | None = None,
) -> None:
    async def one(inventory: SqlInventory, ref: str) -> str:
        try:
            line = WantedLine(sku_id, 1, limit)
            await inventory.reserve(shop_id, ref, shopper_id, "1", [line], utcnow() + timedelta(hours=1))
            return "reserved"
        except OutOfStock:
            return "out of stock"
        except PurchaseLimitExceeded:
            return "over the limit"

    out.put(_race(url, barrier, SqlInventory, one, refs))


def _commit_all(url: str, shop_id: int, reservation_ids: list[int], barrier: Any, out: Any) -> None:
    async def one(inventory: SqlInventory, reservation_id: int) -> int | None:
        return reservation_id if await inventory.commit(shop_id, reservation_id) else None

    won = _race(url, barrier, SqlInventory, one, reservation_ids)
    out.put(("commit", [r for r in won if r is not None]))


def _sweep(url: str, now: datetime, barrier: Any, out: Any) -> None:
    async def sweeps(inventory: SqlInventory, _: int) -> list[int]:
        expired: list[int] = []
        for _ in range(20):  # several small sweeps, as a periodic sweeper would
            expired += [r.id for r in await inventory.expire_due(now, limit=3)]
        return expired

    [expired] = _race(url, barrier, SqlInventory, sweeps, [0])
    out.put(("sweep", expired))


def _book_slot(url: str, shop_id: int, slot_id: int, refs: list[str], barrier: Any, out: Any) -> None:
    async def one(delivery: SqlDelivery, ref: str) -> str:
        try:
            await delivery.book_slot(shop_id, slot_id, ref, utcnow())
            return "booked"
        except SlotFull:
            return "full"

    out.put(_race(url, barrier, SqlDelivery, one, refs))


def _claim(url: str, shop_id: int, template_id: int, shoppers: list[int], barrier: Any, out: Any) -> None:
    async def one(coupons: SqlCoupons, shopper_id: int) -> tuple[int, str]:
        try:
            await coupons.claim(shop_id, template_id, shopper_id, utcnow(), Source.CLAIM)
            return shopper_id, "claimed"
        except CouponError as exc:
            return shopper_id, exc.code

    out.put(_race(url, barrier, SqlCoupons, one, shoppers))


def _lower_total(url: str, shop_id: int, template_id: int, totals: list[int], barrier: Any, out: Any) -> None:
    """Lower the template's totalQuantity to each of ``totals`` in turn, as claims run: each step
    is ("lowered", total, issued seen after) or ("refused", total)."""
    async def steps(coupons: SqlCoupons, _: int) -> list[tuple[Any, ...]]:
        done: list[tuple[Any, ...]] = []
        for total in totals:
            while True:
                [template] = await coupons.templates_by_id(shop_id, [template_id])
                try:
                    await coupons.update_template(shop_id, template_id, template.spec,
                                                  replace(template.spec, total_quantity=total))
                except TemplateChanged:
                    continue
                except RevisionRefused:
                    done.append(("refused", total))
                else:
                    done.append(("lowered", total))
                break
            await asyncio.sleep(0.005)
        return done

    [done] = _race(url, barrier, SqlCoupons, steps, [0])
    out.put(("lower", done))


def _help(url: str, shop_id: int, assist_id: int, helpers: list[int], barrier: Any, out: Any) -> None:
    async def one(members: SqlMembers, helper_id: int) -> str:
        try:
            await members.help_assist(shop_id, assist_id, helper_id, utcnow())
            return "helped"
        except AssistError as exc:
            return exc.code

    out.put(_race(url, barrier, SqlMembers, one, helpers))


def _sweep_orders(url: str, now: datetime, barrier: Any, out: Any) -> None:
    def make(db: Database) -> Any:
        return checkout_for(sql_adapters(Settings(database_url=url), db), Settings(database_url=url))

    async def sweeps(checkout: Any, _: int) -> list[str]:
        expired: list[str] = []
        for _ in range(10):
            expired += (await checkout.sweep(now, limit=3)).expired
        return expired

    [expired] = _race(url, barrier, make, sweeps, [0])
    out.put(("sweep", expired))


WORK = {
    "sweep_orders": _sweep_orders,
    "reserve_one_each": _reserve_one_each,
    "commit_all": _commit_all,
    "sweep": _sweep,
    "book_slot": _book_slot,
    "claim": _claim,
    "lower_total": _lower_total,
    "help": _help,
}
