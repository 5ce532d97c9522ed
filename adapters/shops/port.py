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


@dataclass(frozen=True, slots=True)
class Shop:
    id: int
    handle: str
    name: str
    online_payment_cap: int


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


class ShopExists(Exception):
    def __init__(self, handle: str) -> None:
        super().__init__(f"a shop with handle {handle!r} exists already")
        self.handle = handle
