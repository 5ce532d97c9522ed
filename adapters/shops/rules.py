"""Pure rules for shop keys."""

from __future__ import annotations

import hashlib
import re
import secrets

from adapters.shops.port import KeyKind

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
