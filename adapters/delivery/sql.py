"""SQL implementation of delivery."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from adapters.db import Database, UtcDateTime
from adapters.delivery import rules
from adapters.delivery.port import (
    DeliveryRecord,
    Event,
    EventKind,
    Offer,
    Quote,
    QuoteLine,
    Slot,
    SlotFull,
    SlotPlan,
    SlotUnavailable,
    Tier,
    TierConfig,
)


class DeliveryTierRow(SQLModel, table=True):
    __tablename__ = "delivery_tier"
    __table_args__ = (UniqueConstraint("shop_id", "tier"),)
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    tier: str = Field(max_length=16)
    title: str = Field(max_length=200)
    fee: int = Field(sa_type=BigInteger)
    free_above: int | None = Field(default=None, sa_type=BigInteger)
    regions: list[str] = Field(default_factory=list, sa_type=JSON)
    remote_surcharge: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    features: list[str] = Field(default_factory=list, sa_type=JSON)
    requires_eligible_sku: bool = False
    slot_plan: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class DeliverySlotRow(SQLModel, table=True):
    __tablename__ = "delivery_slot"
    __table_args__ = (
        UniqueConstraint("shop_id", "tier", "starts_at"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="delivery_slot_booked"),
    )
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    tier: str = Field(max_length=16)
    starts_at: datetime = Field(sa_type=UtcDateTime)
    ends_at: datetime = Field(sa_type=UtcDateTime)
    capacity: int
    booked: int = 0


class SlotBookingRow(SQLModel, table=True):
    __tablename__ = "slot_booking"
    __table_args__ = (UniqueConstraint("shop_id", "ref"),)
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    slot_id: int = Field(foreign_key="delivery_slot.id")
    ref: str = Field(max_length=200)
    released: bool = False


class DeliveryRecordRow(SQLModel, table=True):
    __tablename__ = "delivery_record"
    __table_args__ = (UniqueConstraint("shop_id", "order_ref"),)
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    order_ref: str = Field(max_length=200)
    tier: str = Field(max_length=16)
    region: str = Field(max_length=40)
    fee: int = Field(sa_type=BigInteger)
    slot_id: int | None = Field(default=None, foreign_key="delivery_slot.id")
    features: list[str] = Field(default_factory=list, sa_type=JSON)


class DeliveryEventRow(SQLModel, table=True):
    __tablename__ = "delivery_event"
    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="delivery_record.id", index=True)
    kind: str = Field(max_length=20)
    at: datetime = Field(sa_type=UtcDateTime)
    note: str | None = Field(default=None, max_length=500)


_TIER = DeliveryTierRow.__table__
_SLOT = DeliverySlotRow.__table__
_BOOK = SlotBookingRow.__table__
_REC = DeliveryRecordRow.__table__
_EV = DeliveryEventRow.__table__


def tier_values(config: TierConfig) -> dict[str, Any]:
    plan = config.slots
    return {
        "title": config.title,
        "fee": config.fee,
        "free_above": config.free_above,
        "regions": list(config.regions),
        "remote_surcharge": dict(config.remote_surcharge),
        "features": list(config.features),
        "requires_eligible_sku": config.requires_eligible_sku,
        "slot_plan": None if plan is None else {"days": plan.days, "windows": list(plan.windows),
                                               "capacity": plan.capacity, "timezone": plan.timezone},
    }


def tier_from_row(row: Any) -> TierConfig:
    plan = row.slot_plan
    return TierConfig(
        tier=Tier(row.tier),
        title=row.title,
        fee=row.fee,
        free_above=row.free_above,
        regions=tuple(row.regions),
        remote_surcharge=tuple(sorted(row.remote_surcharge.items())),
        features=tuple(row.features),
        requires_eligible_sku=row.requires_eligible_sku,
        slots=None if plan is None else SlotPlan(plan["days"], tuple(plan["windows"]), plan["capacity"], plan["timezone"]),
    )


def _slot(row: Any) -> Slot:
    return Slot(row.id, Tier(row.tier), row.starts_at, row.ends_at, row.capacity, row.booked)


class SqlDelivery:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def offer(self, shop_id: int, now: datetime) -> Offer:
        tiers = {c.tier: c for c in map(tier_from_row, await self._db.rows(select(_TIER).where(_TIER.c.shop_id == shop_id)))}
        slots = await self._slots(shop_id, [c for c in tiers.values() if c.slots is not None], now)
        return Offer(tiers, {tier: tuple(found) for tier, found in slots.items()})

    async def quote(
        self, shop_id: int, requests: Sequence[tuple[str, Sequence[QuoteLine]]], now: datetime
    ) -> list[list[Quote]]:
        offer = await self.offer(shop_id, now)
        return [rules.quotes(offer, region, lines) for region, lines in requests]

    async def _slots(self, shop_id: int, configs: list[TierConfig], now: datetime) -> dict[Tier, list[Slot]]:
        if not configs:
            return {}
        stmt = (
            select(_SLOT)
            .where(_SLOT.c.shop_id == shop_id, _SLOT.c.starts_at > now)
            .order_by(_SLOT.c.tier, _SLOT.c.starts_at)
        )
        found = [_slot(r) for r in await self._db.rows(stmt)]
        have = {(s.tier, s.starts_at) for s in found}
        missing = [
            (c.tier, start, end, c.slots.capacity)
            for c in configs
            if c.slots is not None
            for start, end in rules.slot_windows(c.slots, now)
            if (c.tier, start) not in have
        ]
        if missing:  # the horizon moved on (or slots were never made): make the new days once
            async with self._db.write() as session:
                await session.execute(
                    self._db.insert(_SLOT).on_conflict_do_nothing(index_elements=["shop_id", "tier", "starts_at"]),
                    [{"shop_id": shop_id, "tier": t.value, "starts_at": s, "ends_at": e, "capacity": cap, "booked": 0}
                     for t, s, e, cap in missing],
                )
            found = [_slot(r) for r in await self._db.rows(stmt)]
        horizon = {c.tier: {start for start, _ in rules.slot_windows(c.slots, now)} for c in configs if c.slots}
        by_tier: dict[Tier, list[Slot]] = {}
        for slot in found:
            if slot.starts_at in horizon.get(slot.tier, ()):
                by_tier.setdefault(slot.tier, []).append(slot)
        return by_tier

    async def slot(self, shop_id: int, slot_id: int) -> Slot | None:
        rows = await self._db.rows(select(_SLOT).where(_SLOT.c.id == slot_id, _SLOT.c.shop_id == shop_id))
        return _slot(rows[0]) if rows else None

    async def book_slot(self, shop_id: int, slot_id: int, ref: str, now: datetime) -> Slot:
        try:
            async with self._db.write() as session:
                held = await self._booking(session, shop_id, ref)
                if held is not None:
                    return held
                taken = await session.execute(
                    update(_SLOT)
                    .where(
                        _SLOT.c.id == slot_id,
                        _SLOT.c.shop_id == shop_id,
                        _SLOT.c.booked < _SLOT.c.capacity,
                        _SLOT.c.starts_at > now,
                    )
                    .values(booked=_SLOT.c.booked + 1)
                )
                if taken.rowcount != 1:
                    row = (await session.execute(select(_SLOT).where(_SLOT.c.id == slot_id, _SLOT.c.shop_id == shop_id))).first()
                    if row is None or row.starts_at <= now:
                        raise SlotUnavailable("no such slot, or it has started")
                    raise SlotFull("every place in this slot is booked")
                await session.execute(_BOOK.insert().values(shop_id=shop_id, slot_id=slot_id, ref=ref, released=False))
                booked = await self._booking(session, shop_id, ref)
        except IntegrityError:
            async with self._db.read() as session:  # the same ref booked at the same moment: that booking
                booked = await self._booking(session, shop_id, ref)
            if booked is None:
                raise
        assert booked is not None
        return booked

    async def release_slot(self, shop_id: int, ref: str) -> bool:
        async with self._db.write() as session:
            slot_id = (
                await session.execute(
                    update(_BOOK)
                    .where(_BOOK.c.shop_id == shop_id, _BOOK.c.ref == ref, _BOOK.c.released.is_(False))
                    .values(released=True)
                    .returning(_BOOK.c.slot_id)
                )
            ).scalar()
            if slot_id is None:
                return False
            await session.execute(update(_SLOT).where(_SLOT.c.id == slot_id).values(booked=_SLOT.c.booked - 1))
            return True

    async def _booking(self, session: AsyncSession, shop_id: int, ref: str) -> Slot | None:
        row = (
            await session.execute(
                select(_SLOT)
                .join(_BOOK, _BOOK.c.slot_id == _SLOT.c.id)
                .where(_BOOK.c.shop_id == shop_id, _BOOK.c.ref == ref, _BOOK.c.released.is_(False))
            )
        ).first()
        return _slot(row) if row else None

    async def open_record(
        self,
        shop_id: int,
        order_ref: str,
        tier: Tier,
        region: str,
        fee: int,
        slot_id: int | None,
        features: Sequence[str],
        now: datetime,
    ) -> DeliveryRecord:
        try:
            async with self._db.write() as session:
                record_id = (
                    await session.execute(
                        _REC.insert()
                        .values(shop_id=shop_id, order_ref=order_ref, tier=tier.value, region=region, fee=fee,
                                slot_id=slot_id, features=list(features))
                        .returning(_REC.c.id)
                    )
                ).scalar_one()
                await session.execute(_EV.insert().values(record_id=record_id, kind=EventKind.CREATED.value, at=now))
        except IntegrityError:
            pass  # opened already under this order_ref: that record stands
        found = await self.record(shop_id, order_ref)
        assert found is not None
        return found

    async def record(self, shop_id: int, order_ref: str) -> DeliveryRecord | None:
        async with self._db.read() as session:
            return await self._record(session, shop_id, order_ref)

    async def records(self, shop_id: int, order_refs: Sequence[str]) -> list[DeliveryRecord | None]:
        rows = await self._db.rows(select(_REC).where(_REC.c.shop_id == shop_id, _REC.c.order_ref.in_(list(order_refs))))
        slot_ids = [r.slot_id for r in rows if r.slot_id is not None]
        slots = {s.id: s for s in map(_slot, await self._db.rows(select(_SLOT).where(_SLOT.c.id.in_(slot_ids))))} if slot_ids else {}
        events: dict[int, list[Event]] = {}
        if rows:
            stmt = select(_EV).where(_EV.c.record_id.in_([r.id for r in rows])).order_by(_EV.c.id)
            for e in await self._db.rows(stmt):
                events.setdefault(e.record_id, []).append(Event(EventKind(e.kind), e.at, e.note))
        found = {r.order_ref: _record(r, slots.get(r.slot_id) if r.slot_id else None, events.get(r.id, []))
                 for r in rows}
        return [found.get(ref) for ref in order_refs]

    async def record_event(
        self,
        shop_id: int,
        order_ref: str,
        kind: EventKind,
        note: str | None,
        balance_settled: bool,
        now: datetime,
    ) -> DeliveryRecord:
        async with self._db.write() as session:
            # The record's row lock orders rival events: each sees the history the other left.
            locked = (
                await session.execute(
                    select(_REC.c.id).where(_REC.c.shop_id == shop_id, _REC.c.order_ref == order_ref).with_for_update()
                )
            ).scalar()
            current = await self._record(session, shop_id, order_ref)
            if locked is None or current is None:
                raise rules.InvalidTransition("this order has no delivery")
            history = [e.kind for e in current.events]
            rules.check_event(current.tier, current.features, history, kind, balance_settled)
            await session.execute(_EV.insert().values(record_id=locked, kind=kind.value, at=now, note=note))
            found = await self._record(session, shop_id, order_ref)
        assert found is not None
        return found

    async def _record(self, session: AsyncSession, shop_id: int, order_ref: str) -> DeliveryRecord | None:
        row = (await session.execute(select(_REC).where(_REC.c.shop_id == shop_id, _REC.c.order_ref == order_ref))).first()
        if row is None:
            return None
        slot = None
        if row.slot_id is not None:
            slot_row = (await session.execute(select(_SLOT).where(_SLOT.c.id == row.slot_id))).first()
            slot = _slot(slot_row) if slot_row else None
        events = (await session.execute(select(_EV).where(_EV.c.record_id == row.id).order_by(_EV.c.id))).all()
        return _record(row, slot, [Event(EventKind(e.kind), e.at, e.note) for e in events])


def _record(row: Any, slot: Slot | None, events: Sequence[Event]) -> DeliveryRecord:
    return DeliveryRecord(
        id=row.id,
        shop_id=row.shop_id,
        order_ref=row.order_ref,
        tier=Tier(row.tier),
        region=row.region,
        fee=row.fee,
        slot=slot,
        features=tuple(row.features),
        events=tuple(events),
    )
