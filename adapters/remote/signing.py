"""How a call to a merchant's system proves it comes from jimu, and when it was made.

``X-Jimu-Signature`` is ``base64(HMAC-SHA256(secret, timestamp + "." + body))`` over the
exact bytes POSTed, with ``X-Jimu-Timestamp`` the call's time in Unix seconds. Signing the
timestamp with the body lets the merchant refuse a replay: a call older (or newer) than the
window, 5 minutes, is refused whatever its signature. The secret is per shop.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

REPLAY_WINDOW_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_headers(secret: str, shop: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one call: the shop's handle, the time and the signature."""
    return {
        "Content-Type": "application/json",
        "X-Jimu-Shop": shop,
        "X-Jimu-Timestamp": str(timestamp),
        "X-Jimu-Signature": signature(secret, timestamp, body),
    }


def verify(secret: str, timestamp: str | None, body: bytes, header: str | None, now: float,
           window: int = REPLAY_WINDOW_SECONDS) -> bool:
    """Whether a call is signed by ``secret`` and made within ``window`` seconds of ``now``;
    False for anything missing or garbled."""
    if not header or not timestamp or not timestamp.isdigit() or abs(now - int(timestamp)) > window:
        return False
    try:
        given = base64.b64decode(header, validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = base64.b64decode(signature(secret, int(timestamp), body))
    return hmac.compare_digest(given, expected)
