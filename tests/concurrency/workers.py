"""Work run in separate processes: each opens its own engine and connections."""

from __future__ import annotations

import asyncio
import traceback
from datetime import datetime, timedelta
from typing import Any

from adapters.coupons.port import CouponError, Source
from adapters.coupons.sql import SqlCoupons
from adapters.db import Database, utcnow
from adapters.delivery.port import SlotFull
from adapters.delivery.sql import SqlDelivery
from adapters.inventory.port import OutOfStock, PurchaseLimitExceeded, WantedLine
from adapters.inventory.sql import SqlInventory
from adapters.members.port import AssistError
from adapters.members.sql import SqlMembers


def entry(name: str, *args: Any, **options: Any) -> None:
    """Process target: run the named work; an exception goes onto ``out`` as text, not lost."""
    out = args[-1]
    try:
        WORK[name](*args, **options)
    except BaseException:  # the parent must hear of any failure, not wait for it
        out.put(("error", traceback.format_exc()))


async def _ready(db: Database, barrier: Any) -> None:
    assert await db.ping()  # connect before the start line, so the race is the requests'
    await asyncio.to_thread(barrier.wait)


def _reserve_one_each(
    url: str,
    shop_id: int,
    sku_id: int,
    refs: list[str],
    barrier: Any,
    out: Any,
    shopper_id: int | None = None,
    limit: int | None = None,
) -> None:
    async def run() -> list[str]:
        db = Database(url)
        inventory = SqlInventory(db)
        await _ready(db, barrier)

        async def one(ref: str) -> str:
            try:
                line = WantedLine(sku_id, 1, limit)
                await inventory.reserve(shop_id, ref, shopper_id, "1", [line], utcnow() + timedelta(hours=1))
                return "reserved"
            except OutOfStock:
                return "out of stock"
            except PurchaseLimitExceeded:
                return "over the limit"

        try:
            return list(await asyncio.gather(*(one(ref) for ref in refs)))
        finally:
            await db.dispose()

    out.put(asyncio.run(run()))


def _commit_all(url: str, shop_id: int, reservation_ids: list[int], barrier: Any, out: Any) -> None:
    async def run() -> list[int]:
        db = Database(url)
        inventory = SqlInventory(db)
        await _ready(db, barrier)
        try:
            won = await asyncio.gather(*(inventory.commit(shop_id, r) for r in reservation_ids))
            return [r for r, ok in zip(reservation_ids, won, strict=True) if ok]
        finally:
            await db.dispose()

    out.put(("commit", asyncio.run(run())))


def _sweep(url: str, now: datetime, barrier: Any, out: Any) -> None:
    async def run() -> list[int]:
        db = Database(url)
        inventory = SqlInventory(db)
        await _ready(db, barrier)
        expired: list[int] = []
        try:
            for _ in range(20):  # several small sweeps, as a periodic sweeper would
                expired += [r.id for r in await inventory.expire_due(now, limit=3)]
            return expired
        finally:
            await db.dispose()

    out.put(("sweep", asyncio.run(run())))


def _book_slot(url: str, shop_id: int, slot_id: int, refs: list[str], barrier: Any, out: Any) -> None:
    async def run() -> list[str]:
        db = Database(url)
        delivery = SqlDelivery(db)
        await _ready(db, barrier)

        async def one(ref: str) -> str:
            try:
                await delivery.book_slot(shop_id, slot_id, ref, utcnow())
                return "booked"
            except SlotFull:
                return "full"

        try:
            return list(await asyncio.gather(*(one(ref) for ref in refs)))
        finally:
            await db.dispose()

    out.put(asyncio.run(run()))


def _claim(url: str, shop_id: int, template_id: int, shoppers: list[int], barrier: Any, out: Any) -> None:
    async def run() -> list[tuple[int, str]]:
        db = Database(url)
        coupons = SqlCoupons(db)
        await _ready(db, barrier)

        async def one(shopper_id: int) -> tuple[int, str]:
            try:
                await coupons.claim(shop_id, template_id, shopper_id, utcnow(), Source.CLAIM)
                return shopper_id, "claimed"
            except CouponError as exc:
                return shopper_id, exc.code

        try:
            return list(await asyncio.gather(*(one(s) for s in shoppers)))
        finally:
            await db.dispose()

    out.put(asyncio.run(run()))


def _help(url: str, shop_id: int, assist_id: int, helpers: list[int], barrier: Any, out: Any) -> None:
    async def run() -> list[str]:
        db = Database(url)
        members = SqlMembers(db)
        await _ready(db, barrier)

        async def one(helper_id: int) -> str:
            try:
                await members.help_assist(shop_id, assist_id, helper_id, utcnow())
                return "helped"
            except AssistError as exc:
                return exc.code

        try:
            return list(await asyncio.gather(*(one(h) for h in helpers)))
        finally:
            await db.dispose()

    out.put(asyncio.run(run()))


WORK = {"claim": _claim, "help": _help, "book_slot": _book_slot, "reserve_one_each": _reserve_one_each, "commit_all": _commit_all, "sweep": _sweep}
