"""Calls to a merchant's system: signatures, retries for reads only, the request's deadline,
the breaker and the contract's errors, against httpx's MockTransport."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import httpx
import pytest

from adapters.remote.breaker import Breaker, BreakerState
from adapters.remote.client import (
    Deadline,
    Endpoint,
    RemoteClient,
    RemoteRefused,
    RemoteUnavailable,
    request_deadline,
)
from adapters.remote.signing import signature, verify

END = Endpoint(shop_id=7, shop_handle="brand", capability="goods", base_url="http://erp.test/jimu", secret="s3cret")


def remote(*answers: httpx.Response | Exception | float, seen: list[httpx.Request] | None = None) -> RemoteClient:
    """A client whose remote answers each call with the next of ``answers`` (a float: sleep that long)."""
    queue = list(answers)
    calls = seen if seen is not None else []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, float):
            await asyncio.sleep(answer)
            return httpx.Response(200, json={"items": []})
        if isinstance(answer, Exception):
            raise answer
        return answer

    return RemoteClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), timeout=0.3)


def items(answer: dict) -> list:
    found = answer["items"]
    if not isinstance(found, list):
        raise ValueError("items is not a list")
    return found


def verifies(secret: str, request: httpx.Request, now: float, path: str = "/v1/products:byId",
             shop: str | None = None, body: bytes | None = None, stamp: str | None = None) -> bool:
    return verify(secret, stamp or request.headers["X-Jimu-Timestamp"], request.method, path,
                  shop or request.headers["X-Jimu-Shop"], request.content if body is None else body,
                  request.headers["X-Jimu-Signature"], now)


async def test_a_call_is_signed_over_its_timestamp_method_path_shop_and_body():
    seen: list[httpx.Request] = []
    client = remote(httpx.Response(200, json={"items": [1]}), seen=seen)
    assert await client.call(END, "/v1/products:byId", {"ids": [1]}, items, read=True) == [1]
    [request] = seen
    assert request.url == "http://erp.test/jimu/v1/products:byId" and request.headers["X-Jimu-Shop"] == "brand"
    assert json.loads(request.content) == {"ids": [1]}
    now = time.time()
    assert verifies("s3cret", request, now)
    assert not verifies("other", request, now)
    assert not verifies("s3cret", request, now, body=request.content + b" ")
    # the same bytes sent to another path, or as another shop's, are not the call signed
    assert not verifies("s3cret", request, now, path="/v1/skus:byId")
    assert not verifies("s3cret", request, now, shop="other")
    # a replay after the window fails, however well signed
    assert not verifies("s3cret", request, now + 301)
    good = signature("s3cret", 12, "POST", "/v1/categories", "brand", b"{}")
    assert verify("s3cret", "12", "POST", "/v1/categories", "brand", b"{}", good, 12)
    for stamp in ("12ab", "\u00b2", "\u0661\u0662", "1" * 13):  # '²' and Arabic-Indic digits pass isdigit()
        assert not verify("s3cret", stamp, "POST", "/v1/categories", "brand", b"{}", good, 12)


async def test_reads_are_retried_and_writes_are_not():
    seen: list[httpx.Request] = []
    flaky = remote(httpx.Response(503), httpx.ConnectError("refused"), httpx.Response(200, json={"items": [2]}), seen=seen)
    assert await flaky.call(END, "/v1/skus:byId", {"ids": [2]}, items, read=True) == [2]
    assert len(seen) == 3
    once: list[httpx.Request] = []
    writes = remote(httpx.Response(503), httpx.Response(200, json={"items": []}), seen=once)
    with pytest.raises(RemoteUnavailable) as failed:
        await writes.call(END, "/v1/reservations:reserve", {"ref": "R1"}, items, read=False)
    assert len(once) == 1 and failed.value.capability == "goods" and "HTTP 503" in str(failed.value)


async def test_a_slow_remote_costs_the_request_its_timeout_at_most_across_calls():
    client = remote(5.0)
    token = request_deadline.set(Deadline())
    try:
        started = time.monotonic()
        for _ in range(3):  # three calls of one request share one budget
            with pytest.raises(RemoteUnavailable):
                await client.call(END, "/v1/categories", {}, items, read=True)
        assert time.monotonic() - started < 1.0  # 0.3 s budget; generous for a noisy machine
    finally:
        request_deadline.reset(token)


async def test_a_contract_error_is_a_refusal_not_a_failure():
    client = remote(httpx.Response(409, json={"error": {"code": "OUT_OF_STOCK", "skuIds": [4]}}))
    for _ in range(6):
        with pytest.raises(RemoteRefused) as refused:
            await client.call(END, "/v1/reservations:reserve", {"ref": "R1"}, items, read=False)
        assert (refused.value.code, refused.value.details["skuIds"]) == ("OUT_OF_STOCK", [4])
    assert client.breakers[(7, "goods")].state(time.monotonic()) is BreakerState.CLOSED


@pytest.mark.parametrize("answer", [
    httpx.Response(200, text="<html>"),
    httpx.Response(200, json=[1, 2]),
    httpx.Response(200, json={"items": "many"}),
    httpx.Response(404, text="no route"),
])
async def test_an_answer_that_is_not_the_contracts_is_unavailable(answer: httpx.Response):
    with pytest.raises(RemoteUnavailable) as failed:
        await remote(answer).call(END, "/v1/categories", {}, items, read=True)
    assert failed.value.capability == "goods"


async def test_repeated_failures_open_the_breaker_and_calls_stop_reaching_the_remote():
    seen: list[httpx.Request] = []
    client = remote(httpx.Response(500), seen=seen)
    for _ in range(2):  # 3 attempts each: 6 failures, past the threshold of 5
        with pytest.raises(RemoteUnavailable):
            await client.call(END, "/v1/categories", {}, items, read=True)
    reached = len(seen)
    with pytest.raises(RemoteUnavailable) as paused:
        await client.call(END, "/v1/categories", {}, items, read=True)
    assert len(seen) == reached == 5 and "paused" in str(paused.value)
    # another shop's breaker is its own
    other = Endpoint(8, "other", "goods", "http://erp.test", "x")
    with pytest.raises(RemoteUnavailable):
        await client.call(other, "/v1/categories", {}, items, read=True)
    assert len(seen) > reached


def test_the_breaker_half_opens_for_one_trial_after_its_cool_down():
    breaker = Breaker(threshold=2, cool_down=10)
    breaker.failed(0)
    assert breaker.allow(1)
    breaker.failed(1)
    assert breaker.state(5) is BreakerState.OPEN and not breaker.allow(5)
    assert breaker.allow(11) and not breaker.allow(11)  # one trial at a time
    breaker.failed(12)  # the trial failed: open again, from now
    assert not breaker.allow(20) and breaker.allow(22)
    breaker.succeeded()
    assert breaker.state(22) is BreakerState.CLOSED and breaker.allow(22) and breaker.allow(22)


def test_the_signed_string_is_the_one_the_contract_shows():
    documented = b'1767225600.POST./v1/reservations:commit.aurelian.{"id":7}'  # docs/remote-adapters.md
    expected = base64.b64encode(hmac.new(b"s3cret", documented, hashlib.sha256).digest()).decode()
    assert signature("s3cret", 1767225600, "POST", "/v1/reservations:commit", "aurelian", b'{"id":7}') == expected
    assert documented.decode() in (Path(__file__).parents[2] / "docs" / "remote-adapters.md").read_text(encoding="utf-8")
