"""Delivery signatures: Shopify's HMAC of the raw body, and the headers sent with it."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone

from adapters.webhooks.signing import delivery_headers, new_secret, signature, verify

BODY = b'{"order":{"id":"42","total":"99.00"}}'


def test_the_signature_is_base64_of_the_hmac_sha256_of_the_raw_body():
    # given
    expected = base64.b64encode(hmac.new(b"whsec_known", BODY, hashlib.sha256).digest()).decode()
    # when
    signed = signature("whsec_known", BODY)
    # then
    assert signed == expected
    assert signature("key", b"The quick brown fox jumps over the lazy dog") == \
        "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="  # the RFC-style HMAC vector, base64 of f7bc83f4...


def test_verify_accepts_the_signature_and_rejects_forged_ones():
    # given
    good = signature("s", BODY)
    # when / then
    assert verify("s", BODY, good)
    assert not verify("other", BODY, good)
    assert not verify("s", BODY.replace(b"99", b"19"), good)
    assert not verify("s", BODY, good[:-4])
    assert not verify("s", BODY, None)
    assert not verify("s", BODY, "")
    assert not verify("s", BODY, "not base64 at all!")
    assert not verify("s", BODY, base64.b64encode(b"\0" * 32).decode())


def test_delivery_headers_name_the_event_and_sign_only_the_body():
    # given
    moment = datetime(2026, 6, 18, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    # when
    headers = delivery_headers(topic="orders/paid", event_id="ev_1", shop="acme", timestamp=moment, body=BODY,
                               secret="s")
    later = delivery_headers(topic="orders/paid", event_id="ev_1", shop="acme", timestamp=moment + timedelta(hours=1),
                             body=BODY, secret="s")
    # then
    assert headers == {
        "Content-Type": "application/json",
        "User-Agent": "jimu-webhooks/1",
        "X-Jimu-Topic": "orders/paid",
        "X-Jimu-Event-Id": "ev_1",
        "X-Jimu-Shop": "acme",
        "X-Jimu-Timestamp": "2026-06-18T01:30:15Z",
        "X-Jimu-Hmac-SHA256": signature("s", BODY),
    }
    assert later["X-Jimu-Hmac-SHA256"] == headers["X-Jimu-Hmac-SHA256"]  # a retry signs the same
    assert later["X-Jimu-Timestamp"] == "2026-06-18T02:30:15Z"


def test_a_naive_timestamp_is_taken_as_utc():
    # when
    headers = delivery_headers(topic="t", event_id="e", shop="s", timestamp=datetime(2026, 1, 2, 3, 4, 5), body=b"",
                               secret="s")
    # then
    assert headers["X-Jimu-Timestamp"] == "2026-01-02T03:04:05Z"


def test_new_secrets_are_prefixed_long_and_distinct():
    # when
    secrets = {new_secret() for _ in range(50)}
    # then
    assert len(secrets) == 50
    assert all(s.startswith("whsec_") and len(s) >= 6 + 43 for s in secrets)
