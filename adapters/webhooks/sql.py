"""SQL implementation of the outbox: subscriptions, events and their deliveries.

``emit`` is how the other SQL adapters write an event: inside their own write
transaction, so an event exists exactly when the change that caused it
committed. A dispatcher claims due deliveries with a lease (``SKIP LOCKED`` on
PostgreSQL; on SQLite the write transaction's ``BEGIN IMMEDIATE`` queues the
claimers), so two workers never send one delivery at the same time.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Index,
    Text,
    delete,
    exists,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from adapters.db import Database, UtcDateTime
from adapters.paging import Window
from adapters.shops.sql import ShopRow
from adapters.webhooks.port import (
    Claimed,
    Delivery,
    DeliveryPage,
    DeliveryStatus,
    Event,
    NoSuchSubscription,
    Outcome,
    Subscription,
    SubscriptionExists,
    Topic,
)
from adapters.webhooks.rules import new_event_id

SUBSCRIPTION_DELETED = "subscription deleted"


class WebhookSubscriptionRow(SQLModel, table=True):
    __tablename__ = "webhook_subscription"
    __table_args__ = (
        # One live subscription of a URL to a topic; deleted ones stay for their deliveries' history.
        Index("ux_webhook_subscription_live", "shop_id", "topic", "url", unique=True,
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
    )
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    topic: str = Field(max_length=32)
    url: str = Field(max_length=2048)
    secret: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UtcDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    disabled_reason: str | None = Field(default=None, sa_type=Text)
    failing_since: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)


class WebhookEventRow(SQLModel, table=True):
    __tablename__ = "webhook_event"
    __table_args__ = (Index("ix_webhook_event_occurred", "occurred_at"),)
    id: str = Field(primary_key=True, max_length=36)
    shop_id: int = Field(foreign_key="shop.id")
    topic: str = Field(max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    occurred_at: datetime = Field(sa_type=UtcDateTime)


class WebhookDeliveryRow(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_shop", "shop_id", "id"),
        Index("ix_webhook_delivery_event", "event_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    event_id: str = Field(foreign_key="webhook_event.id", max_length=36)
    subscription_id: int = Field(foreign_key="webhook_subscription.id", index=True)
    topic: str = Field(max_length=32)
    status: str = Field(max_length=16)
    attempts: int = 0
    created_at: datetime = Field(sa_type=UtcDateTime)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    claim: str | None = Field(default=None, max_length=32)
    lease_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_status: int | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    last_response: str | None = Field(default=None, sa_type=Text)


_SUB = WebhookSubscriptionRow.__table__
_EVT = WebhookEventRow.__table__
_DLV = WebhookDeliveryRow.__table__
_SHOP = ShopRow.__table__
_LIVE = (_SUB.c.deleted_at.is_(None), _SUB.c.disabled_at.is_(None))


async def emit(session: AsyncSession, shop_id: int, topic: Topic, payload: dict[str, Any],
               now: datetime) -> str | None:
    """Write an event, and a delivery for each live subscription of the shop to its topic, in the
    caller's transaction: they commit or roll back with the change they tell of. Where no live
    subscription hears the topic nothing is written (None): an event no one is told is not kept."""
    event_id = new_event_id()
    heard = (_SUB.c.shop_id == shop_id, _SUB.c.topic == topic.value, *_LIVE)
    event = select(literal(event_id), literal(shop_id), literal(topic.value), literal(payload, _EVT.c.payload.type),
                   literal(now, UtcDateTime)).where(exists().where(*heard))
    written = await session.execute(_EVT.insert().from_select(
        ["id", "shop_id", "topic", "payload", "occurred_at"], event).returning(_EVT.c.id))
    if written.first() is None:
        return None
    subscribed = select(
        literal(shop_id), literal(event_id), _SUB.c.id, literal(topic.value), literal(DeliveryStatus.PENDING.value),
        literal(0), literal(now, UtcDateTime), literal(now, UtcDateTime),
    ).where(*heard)
    await session.execute(_DLV.insert().from_select(
        ["shop_id", "event_id", "subscription_id", "topic", "status", "attempts", "created_at", "next_attempt_at"],
        subscribed))
    return event_id


def _subscription(row: Any) -> Subscription:
    return Subscription(id=row.id, shop_id=row.shop_id, topic=Topic(row.topic), url=row.url, created_at=row.created_at,
                        failing_since=row.failing_since, disabled_at=row.disabled_at,
                        disabled_reason=row.disabled_reason, last_error=row.last_error)


def _delivery(row: Any) -> Delivery:
    return Delivery(id=row.id, shop_id=row.shop_id, subscription_id=row.subscription_id, event_id=row.event_id,
                    topic=Topic(row.topic), status=DeliveryStatus(row.status), attempts=row.attempts,
                    created_at=row.created_at, next_attempt_at=row.next_attempt_at, last_attempt_at=row.last_attempt_at,
                    delivered_at=row.delivered_at, last_status=row.last_status, last_error=row.last_error,
                    last_response=row.last_response, payload=getattr(row, "payload", None))


def _event(row: Any) -> Event:
    return Event(id=row.id, shop_id=row.shop_id, topic=Topic(row.topic), payload=row.payload,
                 occurred_at=row.occurred_at)


class SqlWebhooks:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def subscribe(self, shop_id: int, topic: Topic, url: str, secret: str, now: datetime) -> Subscription:
        try:
            async with self._db.write() as session:
                new_id = (await session.execute(
                    _SUB.insert().values(shop_id=shop_id, topic=topic.value, url=url, secret=secret, created_at=now)
                    .returning(_SUB.c.id))).scalar_one()
                return await self._subscription(session, shop_id, new_id)
        except IntegrityError as exc:
            raise SubscriptionExists(f"this URL is subscribed to {topic.value} already") from exc

    async def unsubscribe(self, shop_id: int, subscription_id: int, now: datetime) -> Subscription:
        async with self._db.write() as session:
            gone = await session.execute(
                update(_SUB).where(_SUB.c.id == subscription_id, _SUB.c.shop_id == shop_id, _SUB.c.deleted_at.is_(None))
                .values(deleted_at=now))
            if gone.rowcount != 1:
                raise NoSuchSubscription("the shop has no such subscription")
            await _give_up_pending(session, subscription_id, SUBSCRIPTION_DELETED)
            return await self._subscription(session, shop_id, subscription_id)

    async def enable(self, shop_id: int, subscription_id: int) -> Subscription:
        async with self._db.write() as session:
            found = await session.execute(
                update(_SUB).where(_SUB.c.id == subscription_id, _SUB.c.shop_id == shop_id, _SUB.c.deleted_at.is_(None))
                .values(disabled_at=None, disabled_reason=None, failing_since=None))
            if found.rowcount != 1:
                raise NoSuchSubscription("the shop has no such subscription")
            return await self._subscription(session, shop_id, subscription_id)

    async def subscriptions_of(self, shop_id: int) -> list[Subscription]:
        stmt = select(_SUB).where(_SUB.c.shop_id == shop_id, _SUB.c.deleted_at.is_(None)).order_by(_SUB.c.id)
        return [_subscription(row) for row in await self._db.rows(stmt)]

    async def deliveries_page(self, shop_id: int, status: DeliveryStatus | None, window: Window[int]) -> DeliveryPage:
        where = [_DLV.c.shop_id == shop_id]
        if status is not None:
            where.append(_DLV.c.status == status.value)
        total = (await self._db.rows(select(func.count()).select_from(_DLV).where(*where)))[0][0]
        if window.after is not None:
            where.append(_DLV.c.id < window.after)
        if window.before is not None:
            where.append(_DLV.c.id > window.before)
        newest_first = _DLV.c.id.asc() if window.from_end else _DLV.c.id.desc()
        stmt = (select(_DLV, _EVT.c.payload).join(_EVT, _EVT.c.id == _DLV.c.event_id).where(*where)
                .order_by(newest_first).limit(window.size + 1))
        rows, more = window.take(await self._db.rows(stmt))
        return DeliveryPage([_delivery(row) for row in rows], *window.flags(more), total)

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Claimed]:
        claim = secrets.token_hex(16)
        async with self._db.write() as session:
            due = (await session.execute(
                select(_DLV.c.id)
                .where(_DLV.c.status == DeliveryStatus.PENDING.value, _DLV.c.next_attempt_at <= now,
                       (_DLV.c.lease_until.is_(None)) | (_DLV.c.lease_until < now))
                .order_by(_DLV.c.next_attempt_at, _DLV.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )).scalars().all()
            if not due:
                return []
            await session.execute(update(_DLV).where(_DLV.c.id.in_(due)).values(claim=claim, lease_until=lease_until))
            rows = (await session.execute(
                select(_DLV.c.id.label("delivery_id"), _DLV.c.attempts, _DLV.c.subscription_id, _EVT, _SUB.c.url,
                       _SUB.c.secret, _SUB.c.failing_since, _SHOP.c.handle)
                .join(_EVT, _EVT.c.id == _DLV.c.event_id)
                .join(_SUB, _SUB.c.id == _DLV.c.subscription_id)
                .join(_SHOP, _SHOP.c.id == _DLV.c.shop_id)
                .where(_DLV.c.id.in_(due))
                .order_by(_DLV.c.id)
            )).all()
        return [
            Claimed(delivery_id=row.delivery_id, claim=claim, attempts=row.attempts, event=_event(row), shop_handle=row.handle,
                    url=row.url, secret=row.secret, subscription_id=row.subscription_id,
                    failing_since=row.failing_since)
            for row in rows
        ]

    async def record(self, claimed: Claimed, outcome: Outcome) -> bool:
        if outcome.delivered:
            status = DeliveryStatus.DELIVERED
        else:
            status = DeliveryStatus.PENDING if outcome.next_attempt_at is not None else DeliveryStatus.FAILED
        async with self._db.write() as session:
            written = await session.execute(
                update(_DLV).where(_DLV.c.id == claimed.delivery_id, _DLV.c.claim == claimed.claim)
                .values(attempts=_DLV.c.attempts + 1, status=status.value, next_attempt_at=outcome.next_attempt_at,
                        claim=None, lease_until=None, last_attempt_at=outcome.at, last_status=outcome.status,
                        last_error=outcome.error, last_response=outcome.response,
                        delivered_at=outcome.at if outcome.delivered else None))
            if written.rowcount != 1:
                return False  # the lease ran out and another dispatcher holds it now
            subscription = update(_SUB).where(_SUB.c.id == claimed.subscription_id)
            if outcome.delivered:
                await session.execute(subscription.values(failing_since=None, last_error=None))
            elif outcome.disable_reason is not None:
                await session.execute(subscription.where(_SUB.c.disabled_at.is_(None)).values(
                    disabled_at=outcome.at, disabled_reason=outcome.disable_reason, last_error=outcome.error))
                await _give_up_pending(session, claimed.subscription_id, "subscription disabled")
            else:
                await session.execute(subscription.values(
                    failing_since=func.coalesce(_SUB.c.failing_since, literal(outcome.at, UtcDateTime)),
                    last_error=outcome.error))
            return True

    async def reseal(self, change: Callable[[str], str]) -> int:
        async with self._db.write() as session:  # one transaction: an exception rolls every row back
            rows = (await session.execute(select(_SUB.c.id, _SUB.c.secret).order_by(_SUB.c.id))).all()
            for row in rows:
                await session.execute(update(_SUB).where(_SUB.c.id == row.id).values(secret=change(row.secret)))
            return len(rows)

    async def prune(self, before: datetime, limit: int = 500) -> int:
        async with self._db.write() as session:
            unsettled = select(_DLV.c.event_id).where(_DLV.c.status == DeliveryStatus.PENDING.value)
            old = (await session.execute(
                select(_EVT.c.id).where(_EVT.c.occurred_at < before, _EVT.c.id.not_in(unsettled)).limit(limit)
            )).scalars().all()
            if old:
                await session.execute(delete(_DLV).where(_DLV.c.event_id.in_(old)))
                await session.execute(delete(_EVT).where(_EVT.c.id.in_(old)))
            return len(old)

    async def _subscription(self, session: AsyncSession, shop_id: int, subscription_id: int) -> Subscription:
        row = (await session.execute(
            select(_SUB).where(_SUB.c.id == subscription_id, _SUB.c.shop_id == shop_id))).one()
        return _subscription(row)


async def _give_up_pending(session: AsyncSession, subscription_id: int, reason: str) -> None:
    await session.execute(
        update(_DLV).where(_DLV.c.subscription_id == subscription_id, _DLV.c.status == DeliveryStatus.PENDING.value)
        .values(status=DeliveryStatus.FAILED.value, next_attempt_at=None, claim=None, lease_until=None,
                last_error=reason))
