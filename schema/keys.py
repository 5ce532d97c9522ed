"""A shop's API keys as the merchant sees them: named by a hint, never shown again."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from adapters.shops.port import KeyKind
from adapters.shops.port import ShopKey as ShopKeyRecord
from adapters.shops.rules import shown_hint
from schema.common import UserError, gid


@strawberry.enum(description="PUBLISHABLE (pk_...) opens the storefront; SECRET (sk_...) the merchant's operations too.")
class ShopKeyKind(enum.Enum):
    PUBLISHABLE = "publishable"
    SECRET = "secret"


@strawberry.type(description="One of the shop's API keys. Only its hash is kept: the key itself is shown once, "
                             "by shopKeyCreate (or jimu key create).")
class ShopKey:
    id: strawberry.ID = strawberry.field(description="gid://jimu/ShopKey/<n>: what shopKeyRevoke and jimu key revoke take.")
    kind: ShopKeyKind
    hint: str = strawberry.field(description='The key\'s kind and last characters, e.g. "sk_…x4Qe", to tell keys apart.')
    created_at: datetime
    revoked_at: datetime | None = strawberry.field(description="When it was revoked; null while it opens the shop.")
    active: bool

    @classmethod
    def of(cls, key: ShopKeyRecord) -> ShopKey:
        return cls(id=gid("ShopKey", key.id), kind=ShopKeyKind(key.kind.value), hint=shown_hint(key.kind, key.hint),
                   created_at=key.created_at, revoked_at=key.revoked_at, active=key.active)


def key_kind(kind: ShopKeyKind) -> KeyKind:
    return KeyKind(kind.value)


@strawberry.type
class ShopKeyCreatePayload:
    key: str | None = strawberry.field(default=None, description="The new key itself: shown this once, keep it now.")
    shop_key: ShopKey | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ShopKeyRevokePayload:
    shop_key: ShopKey | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
