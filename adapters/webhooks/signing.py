"""How a delivery proves it comes from jimu: an HMAC of its raw body, Shopify style.

The signature is ``base64(HMAC-SHA256(secret, body))`` over the exact bytes
POSTed, nothing else: the receiver verifies before it parses, with no
canonical form of the JSON to agree on. The timestamp header is *not* signed
(as with Shopify's ``X-Shopify-Hmac-SHA256``); a receiver that wants to refuse
replays dedupes by ``X-Jimu-Event-Id``, which every retry of an event repeats,
and may drop deliveries whose timestamp is old.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import datetime, timezone

USER_AGENT = "jimu-webhooks/1"
SECRET_PREFIX = "whsec_"


def signature(secret: str, body: bytes) -> str:
    """``X-Jimu-Hmac-SHA256`` for ``body``: base64 of its HMAC-SHA256 under ``secret``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret``; False for a missing or garbled one."""
    if not header:
        return False
    try:
        given = base64.b64decode(header, validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    # compare_digest takes as long for a near miss as for a wild one: no timing oracle.
    return hmac.compare_digest(given, expected)


def delivery_headers(*, topic: str, event_id: str, shop: str, timestamp: datetime, body: bytes,
                     secret: str) -> dict[str, str]:
    """The headers of one delivery attempt of an event.

    ``event_id`` is the event's, the same on every retry, so receivers dedupe by
    it (delivery is at least once). ``timestamp`` is when this attempt was made,
    ISO 8601 in UTC to the second; it is not part of the signature, which covers
    the body alone. ``shop`` is the shop's handle.
    """
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Jimu-Topic": topic,
        "X-Jimu-Event-Id": event_id,
        "X-Jimu-Shop": shop,
        "X-Jimu-Timestamp": _utc_seconds(timestamp),
        "X-Jimu-Hmac-SHA256": signature(secret, body),
    }


def new_secret() -> str:
    """A fresh signing secret, for a subscription created without one of its own."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _utc_seconds(moment: datetime) -> str:
    # A naive time is taken as UTC (adapters.db.utcnow is aware; older rows may not be).
    aware = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    return aware.strftime("%Y-%m-%dT%H:%M:%SZ")
