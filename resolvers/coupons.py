"""Claiming coupons, and creating, changing and disabling templates (merchant)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import strawberry

from adapters.coupons.port import (
    CouponError,
    CouponKind,
    RevisionRefused,
    Scope,
    Source,
    StackingGroup,
    Template,
    TemplateChanged,
    TemplateExists,
    TemplateSpec,
)
from adapters.coupons.rules import template_problems
from adapters.db import utcnow
from gateway.observe import COUPON_CLAIMED, note
from resolvers.revisions import revised
from resolvers.shopper_auth import signed_in
from resolvers.user_errors import CODE_PATTERN, changes_given, id_of, user_error
from schema import coupons as types
from schema.common import NOT_MONEY, UserError, minor_units, parse_gid
from schema.coupons import (
    Coupon,
    CouponClaimPayload,
    CouponTemplate,
    CouponTemplateDisablePayload,
    CouponTemplateInput,
    CouponTemplatePayload,
    CouponTemplateUpdateInput,
    CouponTemplateUpdatePayload,
)

_UPDATABLE = ("title", "kind", "threshold", "scope", "stacking_group", "total_quantity", "per_shopper_limit", "hidden")
_CLEARABLE = {"discount", "percent_off", "sku_codes", "category_handle", "claim_starts_at", "claim_ends_at",
              "valid_days", "valid_from", "valid_until"}


@strawberry.type
class CouponMutation:
    @strawberry.mutation
    async def coupon_claim(self, info: strawberry.Info, template_id: strawberry.ID) -> CouponClaimPayload:
        shop, shopper_id = await signed_in(info)
        parsed = parse_gid(str(template_id))
        if parsed is None or parsed[0] != "CouponTemplate":
            return CouponClaimPayload(user_errors=[user_error("INVALID", ["templateId"], "not a coupon template id")])
        try:
            coupon = await info.context.adapters.coupons.claim(shop.id, parsed[1], shopper_id, utcnow(), Source.CLAIM)
        except CouponError as exc:
            return CouponClaimPayload(user_errors=[user_error(exc.code, ["templateId"], str(exc))])
        note(COUPON_CLAIMED)
        return CouponClaimPayload(coupon=Coupon.of(coupon))

    @strawberry.mutation(description="Create a coupon template (secret key).")
    async def coupon_template_create(self, info: strawberry.Info, input: CouponTemplateInput) -> CouponTemplatePayload:
        shop = await info.context.merchant_shop()
        errors, spec = await _spec(info, shop.id, input)
        if errors or spec is None:
            return CouponTemplatePayload(user_errors=errors)
        try:
            template = await info.context.adapters.coupons.create_template(shop.id, spec)
        except TemplateExists as exc:
            return CouponTemplatePayload(user_errors=[user_error("INVALID", ["input", "code"], str(exc))])
        return CouponTemplatePayload(template=CouponTemplate.of(template))

    @strawberry.mutation(description=(
        "Change a coupon template (secret key), checked as couponTemplateCreate checks a new one. A change "
        "never rewrites history: once any coupon was issued, what a coupon is worth (kind, threshold, "
        "discount, percentOff, scope and its goods, stackingGroup) is fixed (INVALID_STATE), and "
        "totalQuantity may fall to no fewer than were issued (INVALID). Coupons held keep their dates. "
        "Another shop's template, or none: NOT_FOUND."))
    async def coupon_template_update(self, info: strawberry.Info, id: strawberry.ID,
                                     input: CouponTemplateUpdateInput) -> CouponTemplateUpdatePayload:
        ctx = info.context
        shop = await ctx.merchant_shop()
        errors: list[UserError] = []
        number = id_of(str(id), "CouponTemplate", ["id"], errors)
        changes = changes_given(input, errors, {name: name for name in _UPDATABLE}, clearable=_CLEARABLE)
        if errors or number is None:
            return CouponTemplateUpdatePayload(user_errors=errors)
        async def load() -> Template | None:
            [old] = await ctx.adapters.coupons.templates_by_id(shop.id, [number])
            return old

        async def check(old: Template) -> tuple[list[UserError], TemplateSpec | None]:
            return await _spec(info, shop.id, SimpleNamespace(**{**await _as_input(info, old), **changes}))

        async def write(old: Template, spec: TemplateSpec) -> Template | None:
            return await ctx.adapters.coupons.update_template(shop.id, number, old.spec, spec)

        template, errors = await revised("coupon template", load, check, write, TemplateChanged, RevisionRefused)
        if template is None:
            return CouponTemplateUpdatePayload(user_errors=errors)
        await _changed(info, template)
        return CouponTemplateUpdatePayload(template=CouponTemplate.of(template))

    @strawberry.mutation(description=(
        "Disable a coupon template (secret key): no more claims (COUPON_EXPIRED) or campaign grants (the "
        "assist ends SOLD_OUT, as when the reward runs out), gone from claimable lists; the coupons issued "
        "stay usable until their own validity ends. Disabling it again changes nothing (disabledAt stays)."))
    async def coupon_template_disable(self, info: strawberry.Info, id: strawberry.ID) -> CouponTemplateDisablePayload:
        ctx = info.context
        shop = await ctx.merchant_shop()
        errors: list[UserError] = []
        number = id_of(str(id), "CouponTemplate", ["id"], errors)
        template = None if number is None else await ctx.adapters.coupons.disable_template(shop.id, number, utcnow())
        if template is None:
            return CouponTemplateDisablePayload(
                user_errors=errors or [user_error("NOT_FOUND", ["id"], "no such coupon template in this shop")])
        await _changed(info, template)
        return CouponTemplateDisablePayload(template=CouponTemplate.of(template))


async def _changed(info: strawberry.Info, template: Template) -> None:
    """Drop what holds the template: every worker's cached answers and reference data (the
    claimable lists), and this request's loaders, for the fields after this mutation."""
    await info.context.invalidate(template.shop_id)
    info.context.loaders.forget_template(template.shop_id, template.id)


async def _as_input(info: strawberry.Info, t: Template) -> dict[str, Any]:
    """The stored template as couponTemplateCreate's input would give it: what an update changes."""
    s = t.spec
    goods = info.context.adapters.goods
    skus = await goods.skus_by_id(t.shop_id, list(s.sku_ids)) if s.sku_ids else []
    categories = {c.id: c.handle for c in await goods.categories(t.shop_id)} if s.category_id is not None else {}
    return {
        "code": s.code, "title": s.title, "kind": types.CouponKind(s.kind.value), "threshold": _yuan(s.threshold),
        "discount": None if s.discount is None else _yuan(s.discount), "percent_off": s.percent_off,
        "scope": types.CouponScope(s.scope.value), "sku_codes": [sku.code for sku in skus if sku is not None] or None,
        "category_handle": categories.get(s.category_id) if s.category_id is not None else None,
        "stacking_group": types.StackingGroup(s.stacking_group.value), "total_quantity": s.total_quantity,
        "per_shopper_limit": s.per_shopper_limit, "claim_starts_at": s.claim_starts_at,
        "claim_ends_at": s.claim_ends_at, "valid_days": s.valid_days, "valid_from": s.valid_from,
        "valid_until": s.valid_until, "hidden": s.hidden,
    }


def _yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


async def _spec(info: strawberry.Info, shop_id: int, i: Any) -> tuple[list[UserError], TemplateSpec | None]:
    """The template ``i`` describes (a CouponTemplateInput, or a stored template with an update's
    changes), or every fault of it: the one check of couponTemplateCreate and couponTemplateUpdate."""
    errors: list[UserError] = []

    def bad(field: str, message: str, code: str = "INVALID") -> None:
        errors.append(user_error(code, ["input", field], message))

    if not CODE_PATTERN.fullmatch(i.code):
        bad("code", "use 1-64 letters, digits, - and _")
    if not i.title.strip() or len(i.title) > 200:
        bad("title", "give 1 to 200 characters")
    threshold = minor_units(i.threshold)
    discount = None if i.discount is None else minor_units(i.discount)
    if threshold is None:
        bad("threshold", NOT_MONEY)
    if i.discount is not None and discount is None:
        bad("discount", NOT_MONEY)
    money_errors = {tuple(e.field or ()) for e in errors}
    for field, message in template_problems(
        kind=i.kind.value, threshold=threshold or 0, discount=discount, percent_off=i.percent_off,
        total_quantity=i.total_quantity, per_shopper_limit=i.per_shopper_limit,
        claim_starts_at=i.claim_starts_at, claim_ends_at=i.claim_ends_at, valid_days=i.valid_days,
        valid_from=i.valid_from, valid_until=i.valid_until,
    ):
        if ("input", field) not in money_errors:  # one error a field: the money's own first
            bad(field, message)
    sku_ids: tuple[int, ...] = ()
    category_id = None
    if i.scope.value == "SKUS":
        codes = i.sku_codes or []
        if not codes:
            bad("skuCodes", "scope SKUS needs skuCodes")
        found = await info.context.adapters.goods.skus_by_code(shop_id, codes)
        for n, (code, sku) in enumerate(zip(codes, found, strict=True)):
            if sku is None:
                errors.append(user_error("NOT_FOUND", ["input", "skuCodes", str(n)], f"no SKU {code!r} in this shop"))
        sku_ids = tuple(s.id for s in found if s is not None)
    if i.scope.value == "CATEGORY":
        categories = {c.handle: c.id for c in await info.context.adapters.goods.categories(shop_id)}
        if i.category_handle not in categories:
            bad("categoryHandle", "scope CATEGORY needs a category of this shop", code="NOT_FOUND")
        category_id = categories.get(i.category_handle or "")
    if errors:
        return errors, None
    return [], TemplateSpec(
        code=i.code, title=i.title.strip(), kind=CouponKind(i.kind.value), threshold=threshold or 0,
        discount=discount, percent_off=i.percent_off, scope=Scope(i.scope.value), sku_ids=sku_ids,
        category_id=category_id, stacking_group=StackingGroup(i.stacking_group.value),
        total_quantity=i.total_quantity, per_shopper_limit=i.per_shopper_limit,
        claim_starts_at=i.claim_starts_at, claim_ends_at=i.claim_ends_at, valid_days=i.valid_days,
        valid_from=i.valid_from, valid_until=i.valid_until, hidden=i.hidden,
    )
