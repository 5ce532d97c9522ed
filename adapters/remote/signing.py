"""How a call to a merchant's system proves it comes from jimu, for which call, and when.

``X-Jimu-Signature`` is ``base64(HMAC-SHA256(secret, timestamp + "." + method + "." + path +
"." + shop + "." + body))``: ``X-Jimu-Timestamp`` (the call's time in Unix seconds), the HTTP
method (``POST``), the contract's path (``/v1/reservations:commit``, without the base URL's own
path, so a proxy may mount the merchant's system anywhere), ``X-Jimu-Shop`` (the shop's handle)
and the exact bytes POSTed. Signing the timestamp lets the merchant refuse a replay: a call
older (or newer) than the window, 5 minutes, is refused whatever its signature. Signing the
method, path and shop keeps a call captured within the window from being replayed as another:
a commit's ``{"id": 7}`` is not a release's, nor another shop's. The secret is per shop.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

REPLAY_WINDOW_SECONDS = 300
METHOD = "POST"


def signature(secret: str, timestamp: int, method: str, path: str, shop: str, body: bytes) -> str:
    signed = f"{timestamp}.{method}.{path}.{shop}.".encode() + body
    return base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode("ascii")


def signed_headers(secret: str, shop: str, timestamp: int, path: str, body: bytes) -> dict[str, str]:
    """The headers of one POST to ``path``: the shop's handle, the time and the signature."""
    return {
        "Content-Type": "application/json",
        "X-Jimu-Shop": shop,
        "X-Jimu-Timestamp": str(timestamp),
        "X-Jimu-Signature": signature(secret, timestamp, METHOD, path, shop, body),
    }


def verify(secret: str, timestamp: str | None, method: str, path: str, shop: str | None, body: bytes,
           header: str | None, now: float, window: int = REPLAY_WINDOW_SECONDS) -> bool:
    """Whether a call (its method, contract path, ``X-Jimu-Shop`` and body) is signed by
    ``secret`` and made within ``window`` seconds of ``now``; False for anything missing or
    garbled."""
    if not header or not timestamp or shop is None:
        return False
    # str.isdigit() holds for '²', which int() refuses: ASCII digits only, and a sane length
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) \
            or abs(now - int(timestamp)) > window:
        return False
    try:
        given = base64.b64decode(header, validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = base64.b64decode(signature(secret, int(timestamp), method, path, shop, body))
    return hmac.compare_digest(given, expected)
