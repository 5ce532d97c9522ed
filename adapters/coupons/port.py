"""Coupons: templates, claims that never over-issue, and the coupons shoppers hold.

A template's ``issued`` counter and each shopper's per-template tally change by
one conditional UPDATE each, in one transaction, so no interleaving issues more
than ``total_quantity`` or more than ``per_shopper_limit`` to one shopper. A
coupon moves AVAILABLE -> LOCKED (checkout) -> REDEEMED (first payment), and
back to AVAILABLE when its order is cancelled; it shows EXPIRED once its
validity has passed while AVAILABLE.

Errors (each names its UserErrorCode)::

    CouponError
    ├── NotFound          NOT_FOUND: no such template (hidden ones cannot be claimed directly)
    ├── NotYetClaimable   CAMPAIGN_NOT_ACTIVE: the claim window has not opened
    ├── ClaimClosed       COUPON_EXPIRED: the claim window has closed
    ├── SoldOut           COUPON_SOLD_OUT
    ├── LimitReached      COUPON_LIMIT_REACHED
    ├── NotUsable         COUPON_NOT_APPLICABLE / COUPON_EXPIRED / COUPON_STACKING_CONFLICT
    ├── TemplateExists    INVALID: the code is taken
    ├── TemplateChanged   INVALID_STATE: changed by another writer since it was read: read again
    └── RevisionRefused   a change the template's history forbids, with (field, code, reason) each

ClaimClosed has a subclass, Disabled: the merchant disabled the template, so its
claim window closed for good. Grants answer it as they answer SoldOut.

A template's revision never rewrites history: once any coupon of it was issued,
what a coupon is worth (kind, discount, percent off, threshold, scope and its
goods, stacking group) stays as it was; ``total_quantity`` never falls below
``issued``. Coupons keep the validity they were issued with.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class CouponKind(enum.Enum):
    AMOUNT_OFF = "AMOUNT_OFF"
    PERCENT_OFF = "PERCENT_OFF"


class Scope(enum.Enum):
    SHOP = "SHOP"
    SKUS = "SKUS"
    CATEGORY = "CATEGORY"


class StackingGroup(enum.Enum):
    SHOP = "SHOP"
    PLATFORM = "PLATFORM"


class CouponState(enum.Enum):
    AVAILABLE = "AVAILABLE"
    LOCKED = "LOCKED"
    REDEEMED = "REDEEMED"
    EXPIRED = "EXPIRED"


class Source(enum.Enum):
    """How a coupon was obtained: a claim obeys visibility and the claim window, a grant does not."""

    CLAIM = "CLAIM"
    GRANT = "GRANT"


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """A template as a merchant or a catalog file describes it (validated already)."""

    code: str
    title: str
    kind: CouponKind
    threshold: int
    discount: int | None
    percent_off: int | None
    scope: Scope
    sku_ids: tuple[int, ...]
    category_id: int | None
    stacking_group: StackingGroup
    total_quantity: int
    per_shopper_limit: int
    claim_starts_at: datetime | None
    claim_ends_at: datetime | None
    valid_days: int | None
    valid_from: datetime | None
    valid_until: datetime | None
    hidden: bool


@dataclass(frozen=True, slots=True)
class Template:
    id: int
    shop_id: int
    spec: TemplateSpec
    issued: int
    disabled_at: datetime | None = None  # no claims or grants since; the coupons issued stay usable

    @property
    def remaining(self) -> int:
        return max(self.spec.total_quantity - self.issued, 0)


@dataclass(frozen=True, slots=True)
class Coupon:
    id: int
    shop_id: int
    template_id: int
    shopper_id: int
    state: CouponState
    valid_from: datetime
    valid_until: datetime
    order_ref: str | None


class CouponError(Exception):
    code = "INVALID"


class NotFound(CouponError):
    code = "NOT_FOUND"


class NotYetClaimable(CouponError):
    code = "CAMPAIGN_NOT_ACTIVE"


class ClaimClosed(CouponError):
    code = "COUPON_EXPIRED"


class Disabled(ClaimClosed):
    """Claiming closed for good: the merchant disabled the template."""


class SoldOut(CouponError):
    code = "COUPON_SOLD_OUT"


class LimitReached(CouponError):
    code = "COUPON_LIMIT_REACHED"


class NotUsable(CouponError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class TemplateExists(CouponError):
    code = "INVALID"


class TemplateChanged(CouponError):
    code = "INVALID_STATE"


class RevisionRefused(CouponError):
    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        super().__init__("; ".join(reason for _, _, reason in problems))
        self.problems = problems  # (field, code, reason), fields named as in the API


class Coupons(Protocol):
    async def create_template(self, shop_id: int, spec: TemplateSpec) -> Template:
        """Raises TemplateExists when the code is taken in this shop."""
        ...

    async def update_template(self, shop_id: int, template_id: int, base: TemplateSpec, spec: TemplateSpec) -> Template | None:
        """Replace the template's spec ``base`` (as the caller read it) with ``spec``, under the
        template's row lock; None when the shop has no such template. TemplateChanged when the
        stored spec is no longer ``base``; RevisionRefused when the template's history forbids it
        (``rules.revision_problems``, checked against the issued count under the lock)."""
        ...

    async def disable_template(self, shop_id: int, template_id: int, at: datetime) -> Template | None:
        """Disable it from ``at`` (no more claims or grants); a disabled one keeps its first time.
        None when the shop has no such template."""
        ...

    async def templates_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Template | None]: ...

    async def templates_by_code(self, shop_id: int, codes: Sequence[str]) -> list[Template | None]: ...

    async def claimable(self, shop_id: int, now: datetime) -> list[Template]:
        """Public templates, not disabled, whose claim window is open now and which are not sold out."""
        ...

    async def claim(self, shop_id: int, template_id: int, shopper_id: int, now: datetime, source: Source) -> Coupon:
        """Issue one coupon in one atomic step, or raise the CouponError that says why not."""
        ...

    async def coupons_by_id(self, shop_id: int, ids: Sequence[int], now: datetime) -> list[Coupon | None]: ...

    async def coupons_of(self, shop_id: int, shopper_id: int, now: datetime) -> list[Coupon]: ...

    async def lock(self, shop_id: int, shopper_id: int, coupon_ids: Sequence[int], order_ref: str, now: datetime) -> None:
        """AVAILABLE -> LOCKED for every coupon, or none (NotUsable)."""
        ...

    async def redeem(self, shop_id: int, order_ref: str) -> int:
        """LOCKED -> REDEEMED for the order's coupons; how many moved."""
        ...

    async def release(self, shop_id: int, order_ref: str) -> int:
        """LOCKED or REDEEMED -> AVAILABLE for a cancelled order's coupons; how many moved."""
        ...
