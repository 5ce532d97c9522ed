"""Claiming coupons, and creating templates (merchant)."""

from __future__ import annotations

import strawberry

from adapters.coupons.port import (
    CouponError,
    CouponKind,
    Scope,
    Source,
    StackingGroup,
    TemplateExists,
    TemplateSpec,
)
from adapters.coupons.rules import template_problems
from adapters.db import utcnow
from gateway.observe import COUPON_CLAIMED, note
from resolvers.shopper_auth import signed_in
from resolvers.user_errors import CODE_PATTERN, user_error
from schema.common import NOT_MONEY, UserError, minor_units, parse_gid
from schema.coupons import (
    Coupon,
    CouponClaimPayload,
    CouponTemplate,
    CouponTemplateInput,
    CouponTemplatePayload,
)


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


async def _spec(info: strawberry.Info, shop_id: int, i: CouponTemplateInput) -> tuple[list[UserError], TemplateSpec | None]:
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
