"""Shops, their API keys and their shoppers.

A shop is a tenant: every other capability's data hangs off a shop id. Keys are
stored as hashes only, with a non-secret hint (their last characters) to tell
them apart; a revoked key is kept, marked, and opens nothing. A shopper exists
per shop, identified by the subject an identity provider vouched for
(``wx:<openid>``, ``dev:<code>``); their token version moves on to revoke every
token issued before.

Errors::

    KeyRefused
     +-- KeyNotFound    no such key (or not the shop's)
     +-- LastSecretKey  revoking it would leave the shop no secret key
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
    token_version: int = 0  # a token names the version it was issued at; only the current one is good


@dataclass(frozen=True, slots=True)
class ShopKey:
    """A key as the shop's records hold it: never the key itself, only its hash and a hint."""

    id: int
    shop_id: int
    kind: KeyKind
    hint: str | None  # the key's last characters; None for keys made before hints were kept
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ShopStore(Protocol):
    """Looks up shops by key hash and keeps their shoppers."""

    async def shop_for_key(self, key_hash: str) -> tuple[Shop, KeyKind] | None: ...

    async def shops_by_id(self, ids: Sequence[int]) -> list[Shop | None]: ...

    async def shops_by_handle(self, handles: Sequence[str]) -> list[Shop | None]: ...

    async def create_shop(
        self, handle: str, name: str, key_hashes: dict[KeyKind, str], hints: dict[KeyKind, str] | None = None
    ) -> Shop:
        """Create a shop with its keys; raises ``ShopExists`` when the handle is taken."""
        ...

    async def keys_of(self, shop_id: int) -> list[ShopKey]:
        """The shop's keys, revoked ones too, oldest first."""
        ...

    async def keys_by_id(self, ids: Sequence[int]) -> list[ShopKey | None]: ...

    async def add_key(self, shop_id: int, kind: KeyKind, key_hash: str, hint: str) -> ShopKey | None:
        """A new key for the shop; None when there is no such shop."""
        ...

    async def revoke_key(self, key_id: int, at: datetime, shop_id: int | None = None,
                         keep_a_secret: bool = False) -> ShopKey:
        """Revoke the key (of ``shop_id`` only, when given); a revoked key stays as it was.
        Raises ``KeyNotFound``, or ``LastSecretKey`` when ``keep_a_secret`` and it is the
        shop's last active secret key (decided under the shop's lock: two revocations at
        once cannot leave none)."""
        ...

    async def revoke_tokens(self, shop_id: int, shopper_id: int) -> Shopper | None:
        """Move the shopper's token version on, revoking every token issued before;
        None when the shop has no such shopper."""
        ...

    async def token_versions(self, shop_id: int, shopper_ids: Sequence[int]) -> list[int | None]:
        """Each shopper's current token version, in key order; None for no such shopper."""
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


class KeyRefused(Exception):
    """A key change refused."""


class KeyNotFound(KeyRefused):
    def __init__(self, key_id: int) -> None:
        super().__init__(f"no key {key_id}")
        self.key_id = key_id


class LastSecretKey(KeyRefused):
    def __init__(self) -> None:
        super().__init__("this is the shop's last active secret key: create another first (shopKeyCreate)")
