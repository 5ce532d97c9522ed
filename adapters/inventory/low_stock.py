"""Low-stock thresholds, and the INVENTORY_LOW events a change that crosses one writes.

A SKU's stock is low at or below its threshold: its own, else the shop's (kept under
``rules.EVERY_SKU``), else the LOW_STOCK band's top. The event is written in the
transaction of the change (a reservation, a stock set), once a crossing.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from adapters.db import Database, utcnow
from adapters.inventory import rules
from adapters.webhooks.payloads import global_id
from adapters.webhooks.port import Topic
from adapters.webhooks.sql import emit


class LowStockThresholdRow(SQLModel, table=True):
    """At or below how many available units a SKU's stock is low: its own, or (sku_id 0) the shop's."""

    __tablename__ = "low_stock_threshold"
    __table_args__ = (CheckConstraint("threshold >= 0", name="low_stock_threshold_value"),)
    shop_id: int = Field(foreign_key="shop.id", primary_key=True)
    sku_id: int = Field(primary_key=True)
    threshold: int


_LOW = LowStockThresholdRow.__table__


async def set_threshold(session: AsyncSession, shop_id: int, sku_id: int | None, threshold: int | None) -> None:
    key = rules.EVERY_SKU if sku_id is None else sku_id
    await session.execute(delete(_LOW).where(_LOW.c.shop_id == shop_id, _LOW.c.sku_id == key))
    if threshold is not None:
        await session.execute(_LOW.insert().values(shop_id=shop_id, sku_id=key, threshold=threshold))


async def thresholds_of(db: Database, shop_id: int) -> dict[int | None, int]:
    rows = await db.rows(select(_LOW.c.sku_id, _LOW.c.threshold).where(_LOW.c.shop_id == shop_id))
    return {(None if r.sku_id == rules.EVERY_SKU else r.sku_id): r.threshold for r in rows}


async def tell_low(session: AsyncSession, shop_id: int, changed: dict[int, tuple[int, int]], reason: str) -> None:
    """An INVENTORY_LOW event for each SKU this change took (before, after) to or below its threshold."""
    stmt = select(_LOW.c.sku_id, _LOW.c.threshold).where(
        _LOW.c.shop_id == shop_id, _LOW.c.sku_id.in_([*changed, rules.EVERY_SKU]))
    thresholds = {row.sku_id: row.threshold for row in (await session.execute(stmt)).all()}
    now = utcnow()
    for sku_id, (before, after) in sorted(changed.items()):
        threshold = rules.threshold_of(sku_id, thresholds)
        if rules.fell_low(before, after, threshold):
            await emit(session, shop_id, Topic.INVENTORY_LOW, {"sku": {
                "id": global_id("Sku", sku_id), "available": after, "threshold": threshold, "reason": reason}}, now)
