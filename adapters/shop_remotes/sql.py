"""SQL store of shops' remote systems."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, delete, select, update
from sqlmodel import Field, SQLModel

from adapters.db import Database, UtcDateTime, utcnow
from adapters.shop_remotes.port import ShopRemote
from adapters.shops.sql import ShopRow


class ShopRemoteRow(SQLModel, table=True):
    __tablename__ = "shop_remote"
    shop_id: int = Field(primary_key=True, foreign_key="shop.id")
    goods_url: str | None = Field(default=None, max_length=2000)
    inventory_url: str | None = Field(default=None, max_length=2000)
    secret: str = Field(sa_type=Text)  # sealed
    version: int = 1
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


_TABLE = ShopRemoteRow.__table__
_SHOP = ShopRow.__table__


def _joined() -> Select[Any]:
    """The rows with their shop's handle, by shop."""
    return select(_TABLE, _SHOP.c.handle).join(_SHOP, _SHOP.c.id == _TABLE.c.shop_id).order_by(_TABLE.c.shop_id)


def _remote(row: Any) -> ShopRemote:
    return ShopRemote(shop_id=row.shop_id, shop_handle=row.handle, goods_url=row.goods_url,
                      inventory_url=row.inventory_url, secret=row.secret, version=row.version)


class SqlShopRemotes:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def remotes(self) -> list[ShopRemote]:
        rows = await self._db.rows(_joined())
        return [_remote(row) for row in rows]

    async def put(self, shop_id: int, goods_url: str | None, inventory_url: str | None, secret: str) -> ShopRemote:
        values = {"goods_url": goods_url, "inventory_url": inventory_url, "secret": secret, "updated_at": utcnow()}
        upsert = self._db.insert(_TABLE).values(shop_id=shop_id, version=1, **values).on_conflict_do_update(
            index_elements=["shop_id"], set_={**values, "version": _TABLE.c.version + 1})
        async with self._db.write() as session:
            await session.execute(upsert)
            row = (await session.execute(_joined().where(_TABLE.c.shop_id == shop_id))).one()
        return _remote(row)

    async def clear(self, shop_id: int) -> bool:
        async with self._db.write() as session:
            gone = await session.execute(delete(_TABLE).where(_TABLE.c.shop_id == shop_id).returning(_TABLE.c.shop_id))
            return gone.first() is not None

    async def reseal(self, change: Callable[[str], str]) -> int:
        count = 0
        async with self._db.write() as session:  # one transaction: an exception rolls every row back
            locking = select(_TABLE.c.shop_id, _TABLE.c.secret).order_by(_TABLE.c.shop_id)
            if self._db.dialect == "postgresql":
                locking = locking.with_for_update()
            for row in (await session.execute(locking)).all():
                await session.execute(update(_TABLE).where(_TABLE.c.shop_id == row.shop_id)
                                      .values(secret=change(row.secret)))
                count += 1
        return count
