"""Leaky buckets, in memory and in Redis: the same behaviour; and whose address a request is."""

from __future__ import annotations

import ipaddress
import logging
import os
import uuid

import pytest

from gateway.admission import client_address
from gateway.budgets import LocalBuckets, RedisBuckets, retry_after_header
from gateway.settings import Rate

REDIS_URL = os.environ.get("JIMU_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
RATE = Rate(10, 2.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_bucket_gives_what_it_holds_then_says_when_there_is_more():
    clock = Clock()
    buckets = LocalBuckets(clock)
    assert [(await buckets.take("k", RATE, 4)).taken for _ in range(3)] == [True, True, False]
    refused = await buckets.take("k", RATE, 4)
    assert (refused.taken, refused.left, refused.retry_after) == (False, 2.0, 1.0)  # 2 points short at 2 a second
    clock.now += 1.0
    assert (await buckets.take("k", RATE, 4)).taken
    clock.now += 100
    assert (await buckets.take("k", RATE, 10)).left == 0, "it fills up to its size, no more"
    assert await buckets.give("k", RATE, 3) == 3
    assert await buckets.give("k", RATE, 30) == 10, "a refund never overfills it"
    assert await buckets.give("never-taken", RATE, 3) == 10


async def test_in_redis_a_bucket_behaves_the_same_on_redis_time():
    buckets = RedisBuckets(REDIS_URL)
    key = f"test:{uuid.uuid4()}"
    try:
        found = [await buckets.take(key, RATE, 4) for _ in range(3)]
        assert [f.taken for f in found] == [True, True, False]
        assert 2 <= found[-1].left < 2.1 and 0.9 < found[-1].retry_after <= 1.0
        assert 2 <= await buckets.give(key, RATE, 0) < 2.1
        assert await buckets.give(key, RATE, 30) == 10
    finally:
        await buckets.close()


async def test_when_redis_does_not_answer_the_worker_keeps_its_own_buckets(caplog):
    buckets = RedisBuckets("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        with caplog.at_level(logging.WARNING, logger="jimu.budgets"):
            found = [await buckets.take("k", RATE, 4) for _ in range(3)]
        assert [f.taken for f in found] == [True, True, False]
        assert sum("redis did not answer" in r.getMessage() for r in caplog.records) == 1, "tried once, not per take"
    finally:
        await buckets.close()


def test_retry_after_is_whole_seconds_and_at_least_one():
    assert [retry_after_header(s) for s in (0.0, 0.2, 1.0, 1.01, 59.5)] == ["1", "1", "1", "2", "60"]


PROXIES = [ipaddress.ip_network("10.0.0.0/8")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("203.0.113.7", [], PROXIES, "203.0.113.7"),
        ("203.0.113.7", [b"198.51.100.1"], PROXIES, "203.0.113.7"),  # not from a proxy: the header is the client's word
        ("10.0.0.2", [b"198.51.100.1"], PROXIES, "198.51.100.1"),
        ("10.0.0.2", [b"1.2.3.4, 198.51.100.1, 10.0.0.9"], PROXIES, "198.51.100.1"),  # the client wrote 1.2.3.4
        ("10.0.0.2", [b"1.2.3.4", b"198.51.100.1"], PROXIES, "198.51.100.1"),
        ("10.0.0.2", [b"198.51.100.1"], [], "10.0.0.2"),  # no proxy trusted: the header is ignored
        ("10.0.0.2", [], PROXIES, "10.0.0.2"),
    ],
)
def test_the_client_address_is_believed_only_from_trusted_proxies(peer, forwarded, proxies, expected):
    scope = {"client": (peer, 5000), "headers": [(b"x-forwarded-for", value) for value in forwarded]}
    assert client_address(scope, proxies) == expected


async def test_after_redis_fails_the_worker_does_not_wait_on_it_again_for_a_while(caplog):
    import time

    buckets = RedisBuckets("redis://10.255.255.1:6379/0")  # routes nowhere: a connect that hangs
    try:
        started = time.monotonic()
        await buckets.take("k", RATE, 1)
        first = time.monotonic() - started
        started = time.monotonic()
        for _ in range(20):
            await buckets.take("k", RATE, 0)
        assert first < 1.0 and time.monotonic() - started < 0.05
    finally:
        await buckets.close()
