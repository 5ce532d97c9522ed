"""SQL implementation of the shop store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from adapters.db import Database, UtcDateTime, utcnow
from adapters.shops.port import (
    DEFAULT_ONLINE_PAYMENT_CAP,
    KeyKind,
    KeyNotFound,
    LastSecretKey,
    Shop,
    ShopExists,
    ShopKey,
    Shopper,
    ShopPolicy,
    TrustedDocuments,
)
from adapters.shops.rules import is_last_active_secret


class ShopRow(SQLModel, table=True):
    __tablename__ = "shop"
    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(max_length=63, unique=True)
    name: str = Field(max_length=200)
    online_payment_cap: int = Field(default=DEFAULT_ONLINE_PAYMENT_CAP, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    trusted_documents: str | None = Field(default=None, max_length=16)
    budget_points: int | None = None
    budget_restore: int | None = None


class ShopKeyRow(SQLModel, table=True):
    __tablename__ = "shop_key"
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id", index=True)
    kind: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    hint: str | None = Field(default=None, max_length=8)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ShopperRow(SQLModel, table=True):
    __tablename__ = "shopper"
    __table_args__ = (UniqueConstraint("shop_id", "subject"),)
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    subject: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    token_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


def shop_from_row(row: Any) -> Shop:
    assert row.id is not None
    policy = ShopPolicy(
        trusted_documents=TrustedDocuments(row.trusted_documents) if row.trusted_documents else None,
        budget_points=row.budget_points, budget_restore=row.budget_restore,
    )
    return Shop(id=row.id, handle=row.handle, name=row.name, online_payment_cap=row.online_payment_cap, policy=policy)


def _shopper(row: ShopperRow) -> Shopper:
    assert row.id is not None
    return Shopper(id=row.id, shop_id=row.shop_id, subject=row.subject, created_at=row.created_at,
                   token_version=row.token_version)


def _key(row: Any) -> ShopKey:
    return ShopKey(id=row.id, shop_id=row.shop_id, kind=KeyKind(row.kind), hint=row.hint, created_at=row.created_at,
                   revoked_at=row.revoked_at)


_KEY = ShopKeyRow.__table__


class SqlShopStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def shop_for_key(self, key_hash: str) -> tuple[Shop, KeyKind] | None:
        stmt = (
            select(ShopRow, ShopKeyRow.kind)
            .join(ShopKeyRow, ShopKeyRow.shop_id == ShopRow.id)
            .where(ShopKeyRow.key_hash == key_hash, ShopKeyRow.revoked_at.is_(None))  # type: ignore[union-attr]
        )
        async with self._db.read() as session:
            found = (await session.execute(stmt)).first()
        if found is None:
            return None
        return shop_from_row(found[0]), KeyKind(found[1])

    async def shops_by_id(self, ids: Sequence[int]) -> list[Shop | None]:
        async with self._db.read() as session:
            rows = (await session.scalars(select(ShopRow).where(ShopRow.id.in_(ids)))).all()
        by_id = {row.id: shop_from_row(row) for row in rows}
        return [by_id.get(i) for i in ids]

    async def shops_by_handle(self, handles: Sequence[str]) -> list[Shop | None]:
        rows = await self._db.rows(select(ShopRow.__table__).where(ShopRow.handle.in_(handles)))
        by_handle = {row.handle: shop_from_row(row) for row in rows}
        return [by_handle.get(h) for h in handles]

    async def create_shop(
        self, handle: str, name: str, key_hashes: dict[KeyKind, str], hints: dict[KeyKind, str] | None = None
    ) -> Shop:
        try:
            async with self._db.write() as session:
                row = ShopRow(handle=handle, name=name)
                session.add(row)
                await session.flush()
                assert row.id is not None
                for kind, key_hash in key_hashes.items():
                    session.add(ShopKeyRow(shop_id=row.id, kind=kind.value, key_hash=key_hash,
                                           hint=(hints or {}).get(kind)))
        except IntegrityError as exc:
            raise ShopExists(handle) from exc
        return shop_from_row(row)

    async def set_policy(self, shop_id: int, policy: ShopPolicy) -> Shop | None:
        values = {
            "trusted_documents": policy.trusted_documents.value if policy.trusted_documents else None,
            "budget_points": policy.budget_points, "budget_restore": policy.budget_restore,
        }
        async with self._db.write() as session:
            await session.execute(update(ShopRow.__table__).where(ShopRow.id == shop_id).values(**values))
        [shop] = await self.shops_by_id([shop_id])
        return shop

    async def shopper_for_subject(self, shop_id: int, subject: str) -> Shopper:
        # Insert-or-ignore then read: two first logins at once make one shopper.
        insert = (
            self._db.insert(ShopperRow.__table__)
            .values(shop_id=shop_id, subject=subject, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["shop_id", "subject"])
        )
        query = select(ShopperRow).where(ShopperRow.shop_id == shop_id, ShopperRow.subject == subject)
        async with self._db.write() as session:
            await session.execute(insert)
            row = (await session.scalars(query)).one()
        return _shopper(row)

    async def shoppers_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Shopper | None]:
        query = select(ShopperRow).where(ShopperRow.shop_id == shop_id, ShopperRow.id.in_(ids))
        async with self._db.read() as session:
            rows = (await session.scalars(query)).all()
        by_id = {row.id: _shopper(row) for row in rows}
        return [by_id.get(i) for i in ids]

    async def keys_of(self, shop_id: int) -> list[ShopKey]:
        rows = await self._db.rows(select(_KEY).where(_KEY.c.shop_id == shop_id).order_by(_KEY.c.id))
        return [_key(row) for row in rows]

    async def keys_by_id(self, ids: Sequence[int]) -> list[ShopKey | None]:
        rows = await self._db.rows(select(_KEY).where(_KEY.c.id.in_(ids))) if ids else []
        by_id = {row.id: _key(row) for row in rows}
        return [by_id.get(i) for i in ids]

    async def add_key(self, shop_id: int, kind: KeyKind, key_hash: str, hint: str) -> ShopKey | None:
        async with self._db.write() as session:
            if (await session.get(ShopRow, shop_id)) is None:
                return None
            row = ShopKeyRow(shop_id=shop_id, kind=kind.value, key_hash=key_hash, hint=hint)
            session.add(row)
            await session.flush()
            return _key(row)

    async def revoke_key(self, key_id: int, at: datetime, shop_id: int | None = None,
                         keep_a_secret: bool = False) -> ShopKey:
        async with self._db.write() as session:
            owner = (await session.execute(select(_KEY.c.shop_id).where(_KEY.c.id == key_id))).scalar()
            if owner is None or (shop_id is not None and owner != shop_id):
                raise KeyNotFound(key_id)
            # The shop's row is the lock every change of its keys takes (SQLite: the write lock).
            await session.execute(select(ShopRow.id).where(ShopRow.id == owner).with_for_update())
            keys = [_key(row) for row in (await session.execute(select(_KEY).where(_KEY.c.shop_id == owner))).all()]
            [key] = [k for k in keys if k.id == key_id]
            if not key.active:
                return key
            if keep_a_secret and is_last_active_secret(key, keys):
                raise LastSecretKey()
            await session.execute(update(_KEY).where(_KEY.c.id == key_id).values(revoked_at=at))
        return ShopKey(key.id, key.shop_id, key.kind, key.hint, key.created_at, at)

    async def revoke_tokens(self, shop_id: int, shopper_id: int) -> Shopper | None:
        table = ShopperRow.__table__
        stmt = (
            update(table)
            .where(table.c.shop_id == shop_id, table.c.id == shopper_id)
            .values(token_version=table.c.token_version + 1)  # counted in SQL: two revocations, two steps
        )
        async with self._db.write() as session:
            await session.execute(stmt)
        [shopper] = await self.shoppers_by_id(shop_id, [shopper_id])
        return shopper

    async def token_versions(self, shop_id: int, shopper_ids: Sequence[int]) -> list[int | None]:
        table = ShopperRow.__table__
        stmt = select(table.c.id, table.c.token_version).where(table.c.shop_id == shop_id, table.c.id.in_(shopper_ids))
        found = {row.id: row.token_version for row in await self._db.rows(stmt)} if shopper_ids else {}
        return [found.get(i) for i in shopper_ids]
