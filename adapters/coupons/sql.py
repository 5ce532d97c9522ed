"""SQL implementation of coupons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
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

from adapters.coupons import rules
from adapters.coupons.port import (
    Coupon,
    CouponKind,
    CouponState,
    LimitReached,
    NotFound,
    NotUsable,
    RevisionRefused,
    Scope,
    SoldOut,
    Source,
    StackingGroup,
    Template,
    TemplateChanged,
    TemplateExists,
    TemplateSpec,
)
from adapters.db import Database, UtcDateTime, utcnow
from adapters.webhooks.payloads import global_id, moment
from adapters.webhooks.port import Topic
from adapters.webhooks.sql import emit


class CouponTemplateRow(SQLModel, table=True):
    __tablename__ = "coupon_template"
    __table_args__ = (
        UniqueConstraint("shop_id", "code"),
        CheckConstraint("issued >= 0 AND issued <= total_quantity", name="coupon_template_issued"),
    )
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    code: str = Field(max_length=64)
    title: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    threshold: int = Field(sa_type=BigInteger)
    discount: int | None = Field(default=None, sa_type=BigInteger)
    percent_off: int | None = None
    scope: str = Field(max_length=16)
    sku_ids: list[int] = Field(default_factory=list, sa_type=JSON)
    category_id: int | None = None
    stacking_group: str = Field(max_length=16)
    total_quantity: int
    issued: int = 0
    per_shopper_limit: int
    claim_starts_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    claim_ends_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    valid_days: int | None = None
    valid_from: datetime | None = Field(default=None, sa_type=UtcDateTime)
    valid_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    hidden: bool = False
    # Disabled: no more claims or grants; the coupons issued stay as they are.
    disabled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class CouponRow(SQLModel, table=True):
    __tablename__ = "coupon"
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    template_id: int = Field(foreign_key="coupon_template.id")
    shopper_id: int = Field(index=True)
    state: str = Field(max_length=16)
    valid_from: datetime = Field(sa_type=UtcDateTime)
    valid_until: datetime = Field(sa_type=UtcDateTime)
    order_ref: str | None = Field(default=None, max_length=200, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class CouponTallyRow(SQLModel, table=True):
    """How many coupons of a template one shopper has been issued."""

    __tablename__ = "coupon_tally"
    __table_args__ = (UniqueConstraint("template_id", "shopper_id"),)
    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="coupon_template.id")
    shopper_id: int
    issued: int = 0


_TPL = CouponTemplateRow.__table__
_CPN = CouponRow.__table__
_TAL = CouponTallyRow.__table__


def template_values(spec: TemplateSpec) -> dict[str, Any]:
    return {
        "title": spec.title,
        "kind": spec.kind.value,
        "threshold": spec.threshold,
        "discount": spec.discount,
        "percent_off": spec.percent_off,
        "scope": spec.scope.value,
        "sku_ids": list(spec.sku_ids),
        "category_id": spec.category_id,
        "stacking_group": spec.stacking_group.value,
        "total_quantity": spec.total_quantity,
        "per_shopper_limit": spec.per_shopper_limit,
        "claim_starts_at": spec.claim_starts_at,
        "claim_ends_at": spec.claim_ends_at,
        "valid_days": spec.valid_days,
        "valid_from": spec.valid_from,
        "valid_until": spec.valid_until,
        "hidden": spec.hidden,
    }


def template_from_row(row: Any) -> Template:
    spec = TemplateSpec(
        code=row.code,
        title=row.title,
        kind=CouponKind(row.kind),
        threshold=row.threshold,
        discount=row.discount,
        percent_off=row.percent_off,
        scope=Scope(row.scope),
        sku_ids=tuple(row.sku_ids),
        category_id=row.category_id,
        stacking_group=StackingGroup(row.stacking_group),
        total_quantity=row.total_quantity,
        per_shopper_limit=row.per_shopper_limit,
        claim_starts_at=row.claim_starts_at,
        claim_ends_at=row.claim_ends_at,
        valid_days=row.valid_days,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        hidden=row.hidden,
    )
    return Template(id=row.id, shop_id=row.shop_id, spec=spec, issued=row.issued, disabled_at=row.disabled_at)


def _coupon(row: Any, now: datetime) -> Coupon:
    stored = Coupon(row.id, row.shop_id, row.template_id, row.shopper_id, CouponState(row.state),
                    row.valid_from, row.valid_until, row.order_ref)
    return replace(stored, state=rules.shown_state(stored, now))


async def issue(
    session: AsyncSession, db: Database, shop_id: int, template: Template, shopper_id: int, now: datetime
) -> Coupon:
    """The atomic step of every claim and grant: the shopper's tally, then the template's stock.
    ``template`` was read under its row lock (``template_in``), so a disable has committed or waits."""
    rules.check_issuable(template)
    await session.execute(
        db.insert(_TAL)
        .values(template_id=template.id, shopper_id=shopper_id, issued=0)
        .on_conflict_do_nothing(index_elements=["template_id", "shopper_id"])
    )
    within_limit = await session.execute(
        update(_TAL)
        .where(_TAL.c.template_id == template.id, _TAL.c.shopper_id == shopper_id,
               _TAL.c.issued < template.spec.per_shopper_limit)
        .values(issued=_TAL.c.issued + 1)
    )
    if within_limit.rowcount != 1:
        raise LimitReached("this shopper holds as many as the template allows")
    in_stock = (await session.execute(
        update(_TPL)
        .where(_TPL.c.id == template.id, _TPL.c.issued < _TPL.c.total_quantity)
        .values(issued=_TPL.c.issued + 1)
        .returning(_TPL.c.issued, _TPL.c.total_quantity)
    )).first()
    if in_stock is None:
        raise SoldOut("every coupon of this template has been issued")
    if in_stock.issued == in_stock.total_quantity:  # this was the last: told once, in the issuing transaction
        await _tell_sold_out(session, shop_id, template, in_stock.total_quantity, now)
    valid_from, valid_until = rules.validity(template.spec, now)
    coupon_id = (
        await session.execute(
            _CPN.insert()
            .values(shop_id=shop_id, template_id=template.id, shopper_id=shopper_id, state=CouponState.AVAILABLE.value,
                    valid_from=valid_from, valid_until=valid_until, created_at=now)
            .returning(_CPN.c.id)
        )
    ).scalar_one()
    return Coupon(coupon_id, shop_id, template.id, shopper_id, CouponState.AVAILABLE, valid_from, valid_until, None)


async def _tell_sold_out(session: AsyncSession, shop_id: int, template: Template, total: int, now: datetime) -> None:
    await emit(session, shop_id, Topic.COUPON_SOLD_OUT, {"couponTemplate": {
        "id": global_id("CouponTemplate", template.id), "code": template.spec.code, "title": template.spec.title,
        "totalQuantity": total, "soldOutAt": moment(now)}}, now)


async def template_in(session: AsyncSession, shop_id: int, template_id: int) -> Template | None:
    """The template under its row lock (FOR UPDATE; SQLite's write transaction holds the whole
    file): claims, grants, revisions and disabling of one template take turns."""
    row = (await session.execute(
        select(_TPL).where(_TPL.c.id == template_id, _TPL.c.shop_id == shop_id).with_for_update())).first()
    return template_from_row(row) if row else None


class SqlCoupons:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_template(self, shop_id: int, spec: TemplateSpec) -> Template:
        try:
            async with self._db.write() as session:
                template_id = (
                    await session.execute(
                        _TPL.insert().values(shop_id=shop_id, code=spec.code, issued=0, **template_values(spec))
                        .returning(_TPL.c.id)
                    )
                ).scalar_one()
        except IntegrityError as exc:
            raise TemplateExists(f"a template with code {spec.code!r} exists already") from exc
        return Template(template_id, shop_id, spec, 0)

    async def update_template(self, shop_id: int, template_id: int, base: TemplateSpec, spec: TemplateSpec) -> Template | None:
        now = utcnow()
        async with self._db.write() as session:
            old = await template_in(session, shop_id, template_id)
            if old is None:
                return None
            if old.spec != base:
                raise TemplateChanged("the template was changed meanwhile: read it again")
            if problems := rules.revision_problems(old, spec):
                raise RevisionRefused(problems)
            await session.execute(update(_TPL).where(_TPL.c.id == template_id).values(**template_values(spec)))
            new = replace(old, spec=spec)
            if old.remaining > 0 and new.remaining == 0:  # lowered to what was issued: none left now
                await _tell_sold_out(session, shop_id, new, spec.total_quantity, now)
            return new

    async def disable_template(self, shop_id: int, template_id: int, at: datetime) -> Template | None:
        async with self._db.write() as session:
            old = await template_in(session, shop_id, template_id)
            if old is None or old.disabled_at is not None:
                return old  # disabling again keeps the first time
            await session.execute(update(_TPL).where(_TPL.c.id == template_id).values(disabled_at=at))
            return replace(old, disabled_at=at)

    async def templates_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Template | None]:
        rows = await self._db.rows(select(_TPL).where(_TPL.c.shop_id == shop_id, _TPL.c.id.in_(ids)))
        found = {r.id: template_from_row(r) for r in rows}
        return [found.get(i) for i in ids]

    async def templates_by_code(self, shop_id: int, codes: Sequence[str]) -> list[Template | None]:
        rows = await self._db.rows(select(_TPL).where(_TPL.c.shop_id == shop_id, _TPL.c.code.in_(codes)))
        found = {r.code: template_from_row(r) for r in rows}
        return [found.get(c) for c in codes]

    async def claimable(self, shop_id: int, now: datetime) -> list[Template]:
        stmt = (
            select(_TPL)
            .where(
                _TPL.c.shop_id == shop_id,
                _TPL.c.hidden.is_(False),
                _TPL.c.disabled_at.is_(None),
                _TPL.c.issued < _TPL.c.total_quantity,
                (_TPL.c.claim_starts_at.is_(None)) | (_TPL.c.claim_starts_at <= now),
                (_TPL.c.claim_ends_at.is_(None)) | (_TPL.c.claim_ends_at > now),
            )
            .order_by(_TPL.c.id)
        )
        return [template_from_row(r) for r in await self._db.rows(stmt)]

    async def claim(self, shop_id: int, template_id: int, shopper_id: int, now: datetime, source: Source) -> Coupon:
        async with self._db.write() as session:
            template = await template_in(session, shop_id, template_id)
            if template is None or (source is Source.CLAIM and template.spec.hidden):
                raise NotFound("no such coupon to claim")
            if source is Source.CLAIM:
                rules.check_claim_window(template.spec, now)
            return await issue(session, self._db, shop_id, template, shopper_id, now)

    async def coupons_by_id(self, shop_id: int, ids: Sequence[int], now: datetime) -> list[Coupon | None]:
        rows = await self._db.rows(select(_CPN).where(_CPN.c.shop_id == shop_id, _CPN.c.id.in_(ids)))
        found = {r.id: _coupon(r, now) for r in rows}
        return [found.get(i) for i in ids]

    async def coupons_of(self, shop_id: int, shopper_id: int, now: datetime) -> list[Coupon]:
        stmt = select(_CPN).where(_CPN.c.shop_id == shop_id, _CPN.c.shopper_id == shopper_id).order_by(_CPN.c.id)
        return [_coupon(r, now) for r in await self._db.rows(stmt)]

    async def lock(self, shop_id: int, shopper_id: int, coupon_ids: Sequence[int], order_ref: str, now: datetime) -> None:
        async with self._db.write() as session:
            for coupon_id in sorted(set(coupon_ids)):
                moved = await session.execute(
                    update(_CPN)
                    .where(_CPN.c.id == coupon_id, _CPN.c.shop_id == shop_id, _CPN.c.shopper_id == shopper_id,
                           _CPN.c.state == CouponState.AVAILABLE.value, _CPN.c.valid_from <= now,
                           _CPN.c.valid_until > now)
                    .values(state=CouponState.LOCKED.value, order_ref=order_ref)
                )
                if moved.rowcount != 1:
                    raise NotUsable("COUPON_NOT_APPLICABLE", f"coupon {coupon_id} is not available to this shopper now")

    async def redeem(self, shop_id: int, order_ref: str) -> int:
        return await self._move(shop_id, order_ref, (CouponState.LOCKED,), CouponState.REDEEMED)

    async def release(self, shop_id: int, order_ref: str) -> int:
        return await self._move(shop_id, order_ref, (CouponState.LOCKED, CouponState.REDEEMED), CouponState.AVAILABLE)

    async def _move(self, shop_id: int, order_ref: str, before: tuple[CouponState, ...], after: CouponState) -> int:
        async with self._db.write() as session:
            values: dict[str, Any] = {"state": after.value}
            if after is CouponState.AVAILABLE:
                values["order_ref"] = None
            moved = await session.execute(
                update(_CPN)
                .where(_CPN.c.shop_id == shop_id, _CPN.c.order_ref == order_ref,
                       _CPN.c.state.in_([s.value for s in before]))
                .values(**values)
            )
            return moved.rowcount
