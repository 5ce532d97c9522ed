"""The test receiver itself: what it records and how its options shape the answers."""

from __future__ import annotations

import httpx

from adapters.webhooks.signing import signature


def test_it_records_each_request_with_its_headers_and_whether_it_was_signed(webhook_receiver):
    # given
    receiver = webhook_receiver(secret="s3cret")
    body = b'{"id": 1}'
    signed = {"X-Jimu-Event-Id": "ev-1", "X-Jimu-Topic": "orders/paid", "X-Jimu-Hmac-SHA256": signature("s3cret", body)}
    # when
    good = httpx.post(receiver.url, content=body, headers=signed)
    forged = httpx.post(receiver.url, content=body, headers={**signed, "X-Jimu-Hmac-SHA256": signature("other", body)})
    # then
    assert (good.status_code, forged.status_code) == (200, 200)
    first, second = receiver.wait_for(2)
    assert first["method"] == "POST" and first["path"] == "/hooks" and first["body"] == '{"id": 1}'
    assert first["headers"]["x-jimu-topic"] == "orders/paid" and first["headers"]["x-jimu-event-id"] == "ev-1"
    assert (first["verified"], second["verified"]) == (True, False)
    assert first["status"] == 200


def test_fail_first_counts_per_event_id(webhook_receiver):
    # given
    receiver = webhook_receiver(fail_first=2, fail_status=503)
    # when
    statuses = [httpx.post(receiver.url, content=b"{}", headers={"X-Jimu-Event-Id": event}).status_code
                for event in ["a", "b", "a", "a", "b", "b"]]
    # then
    assert statuses == [503, 503, 503, 200, 503, 200]
    assert [r["status"] for r in receiver.wait_for(6)] == statuses


def test_health_answers_and_is_not_recorded(webhook_receiver):
    # given
    receiver = webhook_receiver()
    # when
    answer = httpx.get(f"{receiver.base}/health")
    # then
    assert answer.status_code == 200
    assert receiver.requests() == []
