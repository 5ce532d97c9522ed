"""Calls to a merchant's system: signatures, retries for reads only, the request's deadline,
the breaker and the contract's errors, against httpx's MockTransport."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from dataclasses import replace
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
    breaker_key,
    request_deadline,
)
from adapters.remote.signing import signature, verify
from gateway.cli_remote import url_problem

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


def test_an_endpoint_does_not_show_its_secret():
    assert "s3cret" not in repr(END) and "s3cret" not in str(END)


async def test_an_endpoint_whose_secret_did_not_open_is_unavailable_without_a_call():
    seen: list[httpx.Request] = []
    client = remote(httpx.Response(200, json={"items": []}), seen=seen)
    with pytest.raises(RemoteUnavailable) as failed:
        await client.call(replace(END, secret=None), "/v1/categories", {}, items, read=True)
    assert "secret" in str(failed.value) and seen == []


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


async def test_a_write_gets_its_whole_timeout_whatever_the_reads_before_it_spent():
    # given a healthy merchant answering each call in 0.2 s, and a request budget of 0.5 s
    client = remote(0.2)
    client.timeout = 0.5
    token = request_deadline.set(Deadline())
    try:
        for _ in range(2):  # pricing's reads: 0.4 s of the budget
            await client.call(END, "/v1/availability", {}, items, read=True)
        # when the reserve is sent with 0.1 s of the budget left
        answer = await client.call(END, "/v1/reservations:reserve", {"ref": "R1"}, items, read=False)
    finally:
        request_deadline.reset(token)
    # then it is not given up on after the merchant has held the stock
    assert answer == []


REFUSALS = frozenset({"OUT_OF_STOCK"})


async def test_a_named_409_to_a_write_is_a_refusal_not_a_failure():
    client = remote(httpx.Response(409, json={"error": {"code": "OUT_OF_STOCK", "skuIds": [4]}}))
    for _ in range(6):
        with pytest.raises(RemoteRefused) as refused:
            await client.call(END, "/v1/reservations:reserve", {"ref": "R1"}, items, read=False, refusals=REFUSALS)
        assert (refused.value.code, refused.value.details["skuIds"]) == ("OUT_OF_STOCK", [4])
    assert client.breakers[breaker_key(END)].state(time.monotonic()) is BreakerState.CLOSED


@pytest.mark.parametrize("answer", [
    httpx.Response(409, json={"error": {"code": "SOMETHING_NEW"}}),  # a code the contract does not name
    httpx.Response(422, json={"error": {"code": "OUT_OF_STOCK"}}),  # a named code, not as a 409
    httpx.Response(429, json={"error": {"code": "RATE_LIMITED"}}),
])
async def test_any_other_error_answer_to_a_write_is_a_failure(answer: httpx.Response):
    client = remote(answer)
    with pytest.raises(RemoteUnavailable):
        await client.call(END, "/v1/reservations:reserve", {"ref": "R1"}, items, read=False, refusals=REFUSALS)
    assert client.breakers[breaker_key(END)].failures == 1


async def test_an_error_answer_to_a_read_is_a_failure_and_retried():
    seen: list[httpx.Request] = []
    client = remote(httpx.Response(409, json={"error": {"code": "OUT_OF_STOCK"}}), seen=seen)
    with pytest.raises(RemoteUnavailable):
        await client.call(END, "/v1/availability", {}, items, read=True, refusals=REFUSALS)
    assert len(seen) == 3 and client.breakers[breaker_key(END)].failures == 3


async def test_a_cancelled_half_open_trial_lets_the_next_call_be_the_trial():
    # given a breaker past its cool-down, whose trial call hangs and is cancelled
    now = [0.0]
    client = remote(5.0)
    client.timeout, client.clock = 10.0, lambda: now[0]
    breaker = client.breakers.setdefault(breaker_key(END), Breaker())
    breaker.failures, breaker.opened_at = 5, 0.0
    now[0] = 11.0
    trial = asyncio.create_task(client.call(END, "/v1/levels", {}, items, read=True))
    await asyncio.sleep(0.05)
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    # then the breaker is half-open still, and lets the next trial through
    assert breaker.state(now[0]) is BreakerState.HALF_OPEN and breaker.allow(now[0])


async def test_a_trial_whose_answer_breaks_the_parser_does_not_keep_the_breaker_half_open():
    now = [11.0]
    client = remote(httpx.Response(200, json={"items": []}))
    client.clock = lambda: now[0]
    breaker = client.breakers.setdefault(breaker_key(END), Breaker())
    breaker.failures, breaker.opened_at = 5, 0.0

    def broken(answer: dict) -> list:
        raise KeyError("a bug of ours")

    with pytest.raises(KeyError):
        await client.call(END, "/v1/levels", {}, broken, read=True)
    assert await client.call(END, "/v1/levels", {}, items, read=True) == []
    assert breaker.state(now[0]) is BreakerState.CLOSED


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
    # and so is the shop's remote set anew at another URL: new configuration starts closed
    reached = len(seen)
    with pytest.raises(RemoteUnavailable):
        await client.call(replace(END, base_url="http://new-erp.test"), "/v1/categories", {}, items, read=True)
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


@pytest.mark.parametrize(("url", "production", "problem"), [
    ("https://erp.example.com/jimu", True, None),
    ("http://erp.example.com/jimu", True, "give an https:// URL with a host (http:// is for development only)"),
    ("http://127.0.0.1:8700", False, None),
    ("ftp://erp.example.com", False, "give an http:// or https:// URL with a host"),
    ("https://erp.example.com/jimu?x=1", True, "give a base URL without a query or fragment: jimu adds the "
                                               "contract's paths to it"),
])
def test_a_merchants_url_is_https_in_production(url: str, production: bool, problem: str | None):
    assert url_problem(url, production) == problem


def test_the_signed_string_is_the_one_the_contract_shows():
    documented = b'1767225600.POST./v1/reservations:commit.aurelian.{"id":7}'  # docs/remote-adapters.md
    expected = base64.b64encode(hmac.new(b"s3cret", documented, hashlib.sha256).digest()).decode()
    assert signature("s3cret", 1767225600, "POST", "/v1/reservations:commit", "aurelian", b'{"id":7}') == expected
    assert documented.decode() in (Path(__file__).parents[2] / "docs" / "remote-adapters.md").read_text(encoding="utf-8")
