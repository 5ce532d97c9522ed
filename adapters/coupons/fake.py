"""In-memory coupons for tests: the SQL adapter's behaviour without a database."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from adapters.coupons import rules
from adapters.coupons.port import (
    Coupon,
    CouponState,
    LimitReached,
    NotFound,
    NotUsable,
    RevisionRefused,
    SoldOut,
    Source,
    Template,
    TemplateChanged,
    TemplateExists,
    TemplateSpec,
)


class FakeCoupons:
    def __init__(self) -> None:
        self.templates: dict[int, Template] = {}
        self.coupons: dict[int, Coupon] = {}
        self.tallies: dict[tuple[int, int], int] = {}  # (template, shopper) -> issued
        self._ids = itertools.count(1)

    def put_template(self, shop_id: int, spec: TemplateSpec) -> tuple[Template, bool]:
        """Create or update by code (the catalog import's upsert); True when anything changed."""
        old = next((t for t in self.templates.values() if t.shop_id == shop_id and t.spec.code == spec.code), None)
        template = (replace(old, spec=spec) if old else Template(next(self._ids), shop_id, spec, 0))
        self.templates[template.id] = template
        return template, old is None or old.spec != spec

    async def create_template(self, shop_id: int, spec: TemplateSpec) -> Template:
        if any(t.shop_id == shop_id and t.spec.code == spec.code for t in self.templates.values()):
            raise TemplateExists(f"a template with code {spec.code!r} exists already")
        return self.put_template(shop_id, spec)[0]

    async def update_template(self, shop_id: int, template_id: int, base: TemplateSpec, spec: TemplateSpec) -> Template | None:
        [old] = await self.templates_by_id(shop_id, [template_id])
        if old is None:
            return None
        if old.spec != base:
            raise TemplateChanged("the template was changed meanwhile: read it again")
        if problems := rules.revision_problems(old, spec):
            raise RevisionRefused(problems)
        self.templates[template_id] = replace(old, spec=spec)
        return self.templates[template_id]

    async def disable_template(self, shop_id: int, template_id: int, at: datetime) -> Template | None:
        [old] = await self.templates_by_id(shop_id, [template_id])
        if old is None or old.disabled_at is not None:
            return old
        self.templates[template_id] = replace(old, disabled_at=at)
        return self.templates[template_id]

    async def templates_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Template | None]:
        return [t if (t := self.templates.get(i)) and t.shop_id == shop_id else None for i in ids]

    async def templates_by_code(self, shop_id: int, codes: Sequence[str]) -> list[Template | None]:
        by_code = {t.spec.code: t for t in self.templates.values() if t.shop_id == shop_id}
        return [by_code.get(c) for c in codes]

    async def claimable(self, shop_id: int, now: datetime) -> list[Template]:
        def open_now(t: Template) -> bool:
            try:
                rules.check_claim_window(t.spec, now)
            except Exception:
                return False
            return True

        return sorted((t for t in self.templates.values()
                       if t.shop_id == shop_id and not t.spec.hidden and t.disabled_at is None and t.remaining > 0
                       and open_now(t)),
                      key=lambda t: t.id)

    async def claim(self, shop_id: int, template_id: int, shopper_id: int, now: datetime, source: Source) -> Coupon:
        template = self.templates.get(template_id)
        if template is None or template.shop_id != shop_id or (source is Source.CLAIM and template.spec.hidden):
            raise NotFound("no such coupon to claim")
        if source is Source.CLAIM:
            rules.check_claim_window(template.spec, now)
        return self.issue(template, shopper_id, now)

    def issue(self, template: Template, shopper_id: int, now: datetime) -> Coupon:
        """The atomic step of every claim and grant, as in SQL: the tally, then the stock."""
        template = self.templates[template.id]  # as it is now, as SQL reads it under its lock
        rules.check_issuable(template)
        if self.tallies.get((template.id, shopper_id), 0) >= template.spec.per_shopper_limit:
            raise LimitReached("this shopper holds as many as the template allows")
        if template.remaining == 0:
            raise SoldOut("every coupon of this template has been issued")
        self.tallies[(template.id, shopper_id)] = self.tallies.get((template.id, shopper_id), 0) + 1
        self.templates[template.id] = replace(template, issued=template.issued + 1)
        valid_from, valid_until = rules.validity(template.spec, now)
        coupon = Coupon(next(self._ids), template.shop_id, template.id, shopper_id, CouponState.AVAILABLE,
                        valid_from, valid_until, None)
        self.coupons[coupon.id] = coupon
        return coupon

    def _shown(self, coupon: Coupon, now: datetime) -> Coupon:
        return replace(coupon, state=rules.shown_state(coupon, now))

    async def coupons_by_id(self, shop_id: int, ids: Sequence[int], now: datetime) -> list[Coupon | None]:
        return [self._shown(c, now) if (c := self.coupons.get(i)) and c.shop_id == shop_id else None for i in ids]

    async def coupons_of(self, shop_id: int, shopper_id: int, now: datetime) -> list[Coupon]:
        return [self._shown(c, now) for c in sorted(self.coupons.values(), key=lambda c: c.id)
                if c.shop_id == shop_id and c.shopper_id == shopper_id]

    async def lock(self, shop_id: int, shopper_id: int, coupon_ids: Sequence[int], order_ref: str, now: datetime) -> None:
        for coupon_id in sorted(set(coupon_ids)):
            c = self.coupons.get(coupon_id)
            if (c is None or c.shop_id != shop_id or c.shopper_id != shopper_id or c.state is not CouponState.AVAILABLE
                    or not c.valid_from <= now < c.valid_until):
                raise NotUsable("COUPON_NOT_APPLICABLE", f"coupon {coupon_id} is not available to this shopper now")
        for coupon_id in set(coupon_ids):
            self.coupons[coupon_id] = replace(self.coupons[coupon_id], state=CouponState.LOCKED, order_ref=order_ref)

    async def redeem(self, shop_id: int, order_ref: str) -> int:
        return self._move(shop_id, order_ref, (CouponState.LOCKED,), CouponState.REDEEMED)

    async def release(self, shop_id: int, order_ref: str) -> int:
        return self._move(shop_id, order_ref, (CouponState.LOCKED, CouponState.REDEEMED), CouponState.AVAILABLE)

    def _move(self, shop_id: int, order_ref: str, before: tuple[CouponState, ...], after: CouponState) -> int:
        moved = 0
        for c in list(self.coupons.values()):
            if c.shop_id == shop_id and c.order_ref == order_ref and c.state in before:
                ref = None if after is CouponState.AVAILABLE else order_ref
                self.coupons[c.id] = replace(c, state=after, order_ref=ref)
                moved += 1
        return moved
