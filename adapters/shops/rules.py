"""Pure rules for shop keys and shopper tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence

from adapters.shops.port import KeyKind, ShopKey

_PREFIX = {KeyKind.PUBLISHABLE: "pk_", KeyKind.SECRET: "sk_"}
HANDLE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def hash_key(key: str) -> str:
    """Keys are long random strings, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_kind(key: str) -> KeyKind | None:
    for kind, prefix in _PREFIX.items():
        if key.startswith(prefix) and len(key) > len(prefix):
            return kind
    return None


def new_key(kind: KeyKind) -> str:
    return _PREFIX[kind] + secrets.token_urlsafe(24)


HINT_LENGTH = 4  # of ~32 random characters: tells keys apart, gives nothing away


def hint_of(key: str) -> str:
    """The part of a key kept in the clear, so an operator can tell keys apart."""
    return key[-HINT_LENGTH:]


def shown_hint(kind: KeyKind, hint: str | None) -> str:
    """How a key is named without being shown: ``sk_…x4Qe`` (Stripe's and Shopify's way)."""
    return f"{_PREFIX[kind]}…{hint}" if hint else f"{_PREFIX[kind]}… (no hint)"


def is_last_active_secret(key: ShopKey, keys: Sequence[ShopKey]) -> bool:
    """Whether revoking ``key`` would leave its shop without an active secret key."""
    if key.kind is not KeyKind.SECRET or not key.active:
        return False
    return not any(k.id != key.id and k.kind is KeyKind.SECRET and k.active and k.shop_id == key.shop_id for k in keys)


def token_is_current(token_version: int, current: int | None) -> bool:
    """A token is good while its shopper exists and their version is still the one it names."""
    return current is not None and token_version == current
