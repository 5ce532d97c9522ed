"""SQL implementation of the WeChat accounts store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, delete, select, update
from sqlmodel import Field, SQLModel

from adapters.db import Database, UtcDateTime, utcnow
from adapters.wechat_accounts.port import SEALED_FIELDS, Resealed, SealedAccount


class ShopWechatRow(SQLModel, table=True):
    __tablename__ = "shop_wechat"
    shop_id: int = Field(primary_key=True, foreign_key="shop.id")
    app_id: str | None = Field(default=None, max_length=32)
    app_secret: str | None = Field(default=None, sa_type=Text)  # sealed
    mch_id: str | None = Field(default=None, max_length=32)
    serial_no: str | None = Field(default=None, max_length=64)
    private_key: str | None = Field(default=None, sa_type=Text)  # sealed
    platform_key: str | None = Field(default=None, sa_type=Text)
    api_v3_key: str | None = Field(default=None, sa_type=Text)  # sealed
    sub_mch_id: str | None = Field(default=None, max_length=32)
    sub_app_id: str | None = Field(default=None, max_length=32)
    version: int = 1
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


_TABLE = ShopWechatRow.__table__
_COLUMNS = ("app_id", "app_secret", "mch_id", "serial_no", "private_key", "platform_key", "api_v3_key",
            "sub_mch_id", "sub_app_id")


def _account(row: Any) -> SealedAccount:
    return SealedAccount(shop_id=row.shop_id, version=row.version, **{name: getattr(row, name) for name in _COLUMNS})


class SqlWechatAccounts:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def accounts_of(self, shop_ids: Sequence[int]) -> list[SealedAccount | None]:
        rows = await self._db.rows(select(_TABLE).where(_TABLE.c.shop_id.in_(list(shop_ids))))
        found = {row.shop_id: _account(row) for row in rows}
        return [found.get(shop_id) for shop_id in shop_ids]

    async def put(self, account: SealedAccount) -> SealedAccount:
        values = {name: getattr(account, name) for name in _COLUMNS}
        upsert = self._db.insert(_TABLE).values(shop_id=account.shop_id, version=1, updated_at=utcnow(), **values)
        upsert = upsert.on_conflict_do_update(
            index_elements=["shop_id"],
            set_={**values, "version": _TABLE.c.version + 1, "updated_at": utcnow()},
        ).returning(*_TABLE.c)
        async with self._db.write() as session:
            row = (await session.execute(upsert)).one()
        return _account(row)

    async def clear(self, shop_id: int) -> bool:
        async with self._db.write() as session:
            gone = await session.execute(delete(_TABLE).where(_TABLE.c.shop_id == shop_id).returning(_TABLE.c.shop_id))
            return gone.first() is not None

    async def reseal(self, change: Callable[[str], str]) -> Resealed:
        shops = count = 0
        async with self._db.write() as session:  # one transaction: an exception rolls every row back
            locking = select(_TABLE.c.shop_id, *(_TABLE.c[name] for name in SEALED_FIELDS)).order_by(_TABLE.c.shop_id)
            if self._db.dialect == "postgresql":
                locking = locking.with_for_update()
            for row in (await session.execute(locking)).all():
                fields = {name: change(value) for name in SEALED_FIELDS if (value := getattr(row, name))}
                if fields:
                    await session.execute(update(_TABLE).where(_TABLE.c.shop_id == row.shop_id).values(**fields))
                    shops, count = shops + 1, count + len(fields)
        return Resealed(shops, count)
