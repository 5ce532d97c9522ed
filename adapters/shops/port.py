"""Shops, their API keys and their shoppers.

A shop is a tenant: every other capability's data hangs off a shop id. Keys are
stored as hashes only; a shopper exists per shop, identified by the subject an
identity provider vouched for (``wx:<openid>``, ``dev:<code>``).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

DEFAULT_ONLINE_PAYMENT_CAP = 5_000_000  # fen: CNY 50,000, a usual mini-program wallet limit


class KeyKind(enum.Enum):
    PUBLISHABLE = "publishable"
    SECRET = "secret"


class TrustedDocuments(enum.Enum):
    """Which documents a shop's publishable key may run: any (OFF), any but the untrusted
    logged (AUDIT), or only the shop's trusted documents (REQUIRE)."""

    OFF = "off"
    AUDIT = "audit"
    REQUIRE = "require"


@dataclass(frozen=True, slots=True)
class ShopPolicy:
    """A shop's own settings at the edge; None everywhere means the deployment's."""

    trusted_documents: TrustedDocuments | None = None
    budget_points: int | None = None  # a secret key's bucket: its size in cost points...
    budget_restore: int | None = None  # ...and the points it gets back per second


@dataclass(frozen=True, slots=True)
class Shop:
    id: int
    handle: str
    name: str
    online_payment_cap: int
    policy: ShopPolicy = ShopPolicy()


@dataclass(frozen=True, slots=True)
class Shopper:
    id: int
    shop_id: int
    subject: str
    created_at: datetime


class ShopStore(Protocol):
    """Looks up shops by key hash and keeps their shoppers."""

    async def shop_for_key(self, key_hash: str) -> tuple[Shop, KeyKind] | None: ...

    async def shops_by_id(self, ids: Sequence[int]) -> list[Shop | None]: ...

    async def shops_by_handle(self, handles: Sequence[str]) -> list[Shop | None]: ...

    async def create_shop(self, handle: str, name: str, key_hashes: dict[KeyKind, str]) -> Shop:
        """Create a shop with its keys; raises ``ShopExists`` when the handle is taken."""
        ...

    async def shopper_for_subject(self, shop_id: int, subject: str) -> Shopper:
        """The shopper of this shop with this subject, created on first sight."""
        ...

    async def shoppers_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Shopper | None]: ...

    async def set_policy(self, shop_id: int, policy: ShopPolicy) -> Shop | None:
        """Replace the shop's policy; the shop, or None when there is no such shop."""
        ...


class ShopExists(Exception):
    def __init__(self, handle: str) -> None:
        super().__init__(f"a shop with handle {handle!r} exists already")
        self.handle = handle
