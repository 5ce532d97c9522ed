"""The sender against a real receiving process, and its refusals of inward addresses."""

from __future__ import annotations

import ipaddress
import time
from datetime import datetime, timezone

import httpx
import pytest

from adapters.webhooks.sender import Sender, forbidden, url_problem
from adapters.webhooks.signing import delivery_headers
from adapters.webhooks.signing import signature as sign
from tests.webhooks.conftest import SECRET, webhook_receiver  # noqa: F401 - the fixture, shared with tests/webhooks

BODY = b'{"order": {"id": "42"}}'
PUBLIC = "93.184.215.14"


def headers(event_id: str = "ev_1") -> dict[str, str]:
    return delivery_headers(topic="orders/paid", event_id=event_id, shop="acme", timestamp=datetime.now(timezone.utc), body=BODY,
                            secret=SECRET)


def answering(table: dict[str, list[str]]):
    """A resolver that knows only ``table``'s names."""
    async def lookup(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError(f"{host} not in the test's table")
        return table[host]
    return lookup


async def test_a_delivery_arrives_signed_and_is_reported_delivered(webhook_receiver):  # noqa: F811
    # given
    receiver = webhook_receiver()
    async with Sender(allow_private=True) as sender:
        # when
        attempt = await sender.post(receiver.url, BODY, headers())
    # then
    assert attempt.delivered and attempt.status_code == 200 and attempt.error is None
    assert attempt.response_excerpt == "thanks"
    [arrived] = receiver.wait_for(1)
    assert arrived["verified"] and arrived["body"] == BODY.decode()
    assert arrived["headers"]["x-jimu-event-id"] == "ev_1" and arrived["headers"]["x-jimu-shop"] == "acme"


async def test_a_500_is_reported_with_the_answer_and_the_retry_succeeds(webhook_receiver):  # noqa: F811
    # given
    receiver = webhook_receiver(fail_first=1)
    async with Sender(allow_private=True) as sender:
        # when
        first = await sender.post(receiver.url, BODY, headers())
        retry = await sender.post(receiver.url, BODY, headers())
    # then
    assert (first.status_code, first.error, first.delivered) == (500, "answered 500", False)
    assert first.response_excerpt == "failing on purpose"
    assert retry.delivered


async def test_a_slow_receiver_times_out_within_the_bound(webhook_receiver):  # noqa: F811
    # given
    receiver = webhook_receiver(sleep=3)
    async with Sender(allow_private=True, timeout_seconds=0.3) as sender:
        # when
        started = time.monotonic()
        attempt = await sender.post(receiver.url, BODY, headers())
        took = time.monotonic() - started
    # then
    assert attempt.status_code is None and attempt.error == "timed out after 0.3 s"
    assert took < 1.0 and attempt.elapsed_ms < 1000
    receiver.wait_for(1)  # it did arrive: the answer is what was late


async def test_nobody_listening_is_connection_refused():
    # given
    from tests.concurrency.conftest import free_port
    async with Sender(allow_private=True) as sender:
        # when
        attempt = await sender.post(f"http://127.0.0.1:{free_port()}/hooks", BODY, headers())
    # then
    assert (attempt.status_code, attempt.error) == (None, "connection refused")


@pytest.mark.parametrize(("form", "reason"), [
    ("http://127.0.0.1:{port}/hooks", "refused: a loopback address 127.0.0.1"),
    ("http://localhost:{port}/hooks", "refused: resolves to a loopback address"),
    ("http://[::ffff:127.0.0.1]:{port}/hooks", "refused: a loopback address ::ffff:7f00:1"),
    ("http://2130706433:{port}/hooks", "refused: resolves to a loopback address 127.0.0.1"),
    ("http://0x7f.0.0.1:{port}/hooks", "refused: resolves to a loopback address 127.0.0.1"),
    ("http://[::1]:{port}/hooks", "refused: a loopback address ::1"),
])
async def test_production_refuses_every_spelling_of_loopback(webhook_receiver, form, reason):  # noqa: F811
    # given
    receiver = webhook_receiver()
    url = form.format(port=receiver.base.rsplit(":", 1)[1])
    async with Sender(allow_private=False) as sender:
        # when
        attempt = await sender.post(url, BODY, headers())
    # then
    assert attempt.status_code is None and attempt.error.startswith(reason)
    assert not attempt.delivered
    assert receiver.requests() == []


async def test_the_address_checked_is_the_address_connected_to(webhook_receiver):  # noqa: F811
    # given a rebinding name: public when the subscription is checked, loopback by the time it is delivered
    receiver = webhook_receiver()
    port = int(receiver.base.rsplit(":", 1)[1])
    answers = iter([[PUBLIC], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    url = f"https://hooks.merchant.test:{port}/hooks"
    assert await url_problem(url, production=True, allow_private=False, lookup=rebinding) is None
    async with Sender(allow_private=False, lookup=rebinding) as sender:
        # when
        attempt = await sender.post(url.replace("https", "http"), BODY, headers())
    # then
    assert attempt.error == "refused: resolves to a loopback address 127.0.0.1"
    assert receiver.requests() == []


async def test_one_inward_answer_among_public_ones_refuses_the_name(webhook_receiver):  # noqa: F811
    # given
    receiver = webhook_receiver()
    port = int(receiver.base.rsplit(":", 1)[1])
    lookup = answering({"mixed.test": [PUBLIC, "127.0.0.1"]})
    async with Sender(allow_private=False, lookup=lookup) as sender:
        # when
        attempt = await sender.post(f"http://mixed.test:{port}/hooks", BODY, headers())
    # then
    assert attempt.error == "refused: resolves to a loopback address 127.0.0.1"
    assert receiver.requests() == []


async def test_a_redirect_is_a_failure_and_is_not_followed(webhook_receiver):  # noqa: F811
    # given
    elsewhere = webhook_receiver()
    receiver = webhook_receiver(redirect=elsewhere.url)
    async with Sender(allow_private=True) as sender:
        # when
        attempt = await sender.post(receiver.url, BODY, headers())
    # then
    assert (attempt.status_code, attempt.error, attempt.delivered) == (302, "redirect 302 not followed", False)
    receiver.wait_for(1)
    assert elsewhere.requests() == []


async def test_a_huge_answer_is_read_only_so_far(webhook_receiver):  # noqa: F811
    # given an answer of 200 MB, which would take far longer than the timeout to read whole
    receiver = webhook_receiver(answer_bytes=200_000_000)
    async with Sender(allow_private=True, timeout_seconds=5) as sender:
        # when
        attempt = await sender.post(receiver.url, BODY, headers())
    # then
    assert attempt.delivered
    assert attempt.response_excerpt == "x" * 512
    assert attempt.elapsed_ms < 3000


async def test_network_errors_are_attempts_not_exceptions():
    # given a transport whose connection drops, as a fake
    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset", request=request)

    async with Sender(allow_private=True, transport=httpx.MockTransport(drop)) as sender:
        # when
        attempt = await sender.post("https://hooks.example.com/x", BODY, headers())
    # then
    assert attempt.status_code is None and attempt.error == "connection dropped by the receiver"


async def test_answers_are_asked_uncompressed_so_the_read_limit_holds():
    # given
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(204 if request.headers["accept-encoding"] == "identity" else 400)

    async with Sender(allow_private=True, transport=httpx.MockTransport(answer)) as sender:
        # when
        attempt = await sender.post("https://hooks.example.com/x", BODY, headers())
    # then
    assert attempt.delivered and attempt.status_code == 204


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.2", "loopback"), ("::1", "loopback"), ("10.0.0.3", "private"), ("172.16.5.4", "private"),
    ("192.168.1.1", "private"), ("fd12::1", "private"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("100.64.0.1", "shared (CGNAT)"), ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("240.0.0.1", "reserved"),
    ("::ffff:10.0.0.3", "private"), ("::ffff:169.254.169.254", "link-local"), ("2002:7f00:1::", "loopback"),
    (PUBLIC, None), ("2606:4700:4700::1111", None), ("::ffff:" + PUBLIC, None),
])
def test_inward_addresses_are_named(address, kind):
    # when / then
    assert forbidden(ipaddress.ip_address(address)) == kind


PUBLIC_DNS = answering({"hooks.example.com": [PUBLIC], "cgnat.example.com": ["100.64.3.4"],
                        "empty.example.com": []})


@pytest.mark.parametrize(("url", "problem"), [
    ("https://hooks.example.com/jimu", None),
    ("https://hooks.example.com:8443/jimu?shop=acme", None),
    ("http://hooks.example.com/jimu", "the URL must start with https://"),
    ("ftp://hooks.example.com/jimu", "the URL must start with https://"),
    ("https:///jimu", "the URL must have a host"),
    ("https://user:pass@hooks.example.com/jimu", "the URL must not carry a user or password"),
    ("https://hooks.example.com/jimu#top", "the URL must not have a fragment (#...)"),
    ("https://hooks.example.com/" + "a" * 2048, "a URL must be at most 2048 characters"),
    ("https://hooks.example.com:99999/", "the URL's port must be a number from 1 to 65535"),
    ("https://hooks.example.com:0/", "the URL's port must be a number from 1 to 65535"),
    ("https://nowhere.example.com/", "the URL's host does not resolve"),
    ("https://empty.example.com/", "the URL's host does not resolve"),
    ("https://cgnat.example.com/", "the URL's host resolves to a shared (CGNAT) address 100.64.3.4"),
    ("https://10.0.0.3/", "the URL's host is a private address 10.0.0.3"),
    ("https://[::ffff:10.0.0.3]/", "the URL's host is a private address ::ffff:a00:3"),
])
async def test_url_problem_in_production(url, problem):
    # when / then
    assert await url_problem(url, production=True, allow_private=False, lookup=PUBLIC_DNS) == problem


async def test_url_problem_in_production_with_the_system_resolver():
    # when / then
    assert await url_problem("https://localhost/hooks", production=True, allow_private=False) == \
        "the URL's host resolves to a loopback address 127.0.0.1"
    assert await url_problem("https://nothing.invalid/hooks", production=True, allow_private=False) == \
        "the URL's host does not resolve"


@pytest.mark.parametrize(("url", "problem"), [
    ("http://localhost:8000/hooks", None),
    ("http://127.0.0.1:8000/hooks", None),
    ("https://not-yet.invalid/hooks", None),
    ("ftp://localhost/hooks", "the URL must start with http:// or https://"),
    ("http://u@localhost/hooks", "the URL must not carry a user or password"),
])
async def test_url_problem_outside_production_allows_local_hosts(url, problem):
    # when / then
    assert await url_problem(url, production=False, allow_private=True) == problem


def test_the_signature_helper_is_the_one_merchants_verify():
    # a guard for the imports above: the receiver verifies what the sender signs
    assert headers()["X-Jimu-Hmac-SHA256"] == sign(SECRET, BODY)
