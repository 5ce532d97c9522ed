"""The one place a webhook delivery leaves the process, and why it cannot be aimed inward.

A merchant chooses the URL, so in production a URL must not reach the
deployment's own network (the database, the metadata service at
169.254.169.254, a sidecar on loopback). Checking the name when the
subscription is made is not enough, nor is resolving it just before the
request and then letting the HTTP client connect by name: the name is
resolved a second time, and a rebinding DNS server answers a public address
to the check and ``10.0.0.3`` to the connect.

So the address checked is the address connected to. The pool under the
``httpx.AsyncClient`` is an ``httpcore.AsyncConnectionPool`` built with our own
network backend (``_GuardedBackend``): httpcore hands it ``connect_tcp(host,
port)`` for each new connection, it resolves the host once, refuses if any
address is forbidden, and connects the socket to one of the addresses it
checked. TLS is started afterwards by httpcore on that socket with the URL's
host name, so SNI and certificate checks are as for any request. httpx 0.28's
``AsyncHTTPTransport`` takes no network backend (encode/httpx#3749 proposes
it), so ``_PinnedTransport`` is a small transport over the public httpcore
API rather than a patch of httpx's private ``_pool``. Proxies are never used
(``trust_env=False``): a proxy from the environment would connect by name.

Failures are never raised: every network, TLS, HTTP or refusal error becomes
an ``Attempt`` with a short reason, so the dispatcher only records and retries.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

MAX_URL_LENGTH = 2048
READ_LIMIT = 64 * 1024  # read at most this much of an answer: a receiver may stream forever
EXCERPT_CHARS = 512

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str, int], Awaitable[list[str]]]  # (host, port) -> addresses, as text


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one POST of a delivery came to. ``error`` is None only when it was delivered."""

    status_code: int | None  # None when no answer came (refused, timed out, connection failed)
    error: str | None  # a short reason for a person: "timed out after 5 s", "answered 500", ...
    response_excerpt: str  # the answer's first characters, decoded leniently
    elapsed_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def forbidden(address: Address) -> str | None:
    """What kind of inward address ``address`` is (``"loopback"``, ``"private"``, ...), None if public."""
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1 and 6to4/Teredo forms reach an IPv4 host: judge that host.
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None:
            return forbidden(embedded)
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if address in _SHARED:
        return "shared (CGNAT)"
    # Before is_private, which counts 240.0.0.0/4 among the private ranges.
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "non-public"
    return None


_SHARED = ipaddress.ip_network("100.64.0.0/10")


class Refused(Exception):
    """The destination is inward: raised by the backend before any socket is opened."""

    def __init__(self, kind: str, address: str, resolved: bool) -> None:
        self.kind, self.address, self.resolved = kind, address, resolved
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        """e.g. "refused: resolves to a private address 10.0.0.3"."""
        return f"refused: {'resolves to ' if self.resolved else ''}{_a(self.kind)} address {self.address}"


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver, as a connect would use)."""
    answers = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in answers))


def literal(host: str) -> Address | None:
    """``host`` as an IP address when it is one (brackets of IPv6 URLs dropped), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


async def checked_addresses(host: str, port: int, lookup: Resolve) -> list[str]:
    """The addresses to connect to for ``host``; Refused if any is inward, OSError if none."""
    found = literal(host)
    if found is not None:
        kind = forbidden(found)
        if kind:
            raise Refused(kind, str(found), resolved=False)
        return [str(found)]
    addresses = await lookup(host, port)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    # Every answer is judged, not only the first: a name answering one public and one
    # inward address would otherwise reach inward whenever the first fails.
    for text in addresses:
        kind = forbidden(ipaddress.ip_address(text.split("%")[0]))
        if kind:
            raise Refused(kind, text, resolved=True)
    return addresses


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses it has resolved and checked itself."""

    def __init__(self, lookup: Resolve) -> None:
        self._lookup = lookup
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await checked_addresses(host, port, self._lookup)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} does not resolve") from exc
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise Refused("unix socket", path, resolved=False)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


class _PinnedTransport(httpx.AsyncBaseTransport):
    """httpx over an httpcore pool whose every connection goes through ``_GuardedBackend``."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend | None) -> None:
        self._pool = httpcore.AsyncConnectionPool(ssl_context=httpx.create_ssl_context(trust_env=False),
                                                  max_connections=100, max_keepalive_connections=20,
                                                  keepalive_expiry=5.0, network_backend=backend)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host, port=request.url.port,
                             target=request.url.raw_path),
            headers=request.headers.raw, content=request.stream, extensions=request.extensions)
        answer = await self._pool.handle_async_request(core)
        return httpx.Response(status_code=answer.status, headers=answer.headers, stream=_Stream(answer),
                              extensions=answer.extensions)

    async def aclose(self) -> None:
        await self._pool.aclose()


class _Stream(httpx.AsyncByteStream):
    def __init__(self, answer: httpcore.Response) -> None:
        self._answer = answer

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._answer.aiter_stream():
            yield chunk

    async def aclose(self) -> None:
        await self._answer.aclose()


class Sender:
    """POSTs deliveries over one long-lived pooled client; ``aclose()`` when done.

    ``allow_private`` lets deliveries reach loopback and private networks (local
    development and tests); production passes False. ``transport`` replaces the
    guarded one (an ``httpx.MockTransport`` in tests), ``lookup`` the system resolver.
    """

    def __init__(self, allow_private: bool, timeout_seconds: float = 5.0, *,
                 transport: httpx.AsyncBaseTransport | None = None, lookup: Resolve = resolve) -> None:
        self.allow_private = allow_private
        self.timeout_seconds = timeout_seconds
        if transport is None:
            transport = _PinnedTransport(None if allow_private else _GuardedBackend(lookup))
        self._client = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(timeout_seconds),
                                         follow_redirects=False, trust_env=False)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Attempt:
        """One attempt at delivering ``body`` to ``url``, bounded by the timeout as a whole."""
        started = time.monotonic()

        def attempt(status: int | None, error: str | None, excerpt: str = "") -> Attempt:
            return Attempt(status, error, excerpt, round((time.monotonic() - started) * 1000))

        refusal = None if self.allow_private else _literal_refusal(url)
        if refusal:
            return attempt(None, refusal)
        # An identity answer keeps the read limit a limit: a gzip bomb cannot grow past it.
        sent = {**headers, "Accept-Encoding": "identity"}
        try:
            async with asyncio.timeout(self.timeout_seconds):
                async with self._client.stream("POST", url, content=body, headers=sent) as answer:
                    excerpt = await _excerpt(answer)
        except Refused as exc:
            return attempt(None, exc.reason)
        except (TimeoutError, httpx.TimeoutException, httpcore.TimeoutException):
            return attempt(None, f"timed out after {self.timeout_seconds:g} s")
        except (httpx.HTTPError, httpx.InvalidURL, httpcore.NetworkError, httpcore.ProtocolError,
                httpcore.UnsupportedProtocol, OSError) as exc:
            return attempt(None, _reason(exc))
        status = answer.status_code
        if 200 <= status < 300:
            return attempt(status, None, excerpt)
        if 300 <= status < 400:
            return attempt(status, f"redirect {status} not followed", excerpt)
        return attempt(status, f"answered {status}", excerpt)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Sender:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def _excerpt(answer: httpx.Response) -> str:
    read = bytearray()
    try:
        async for chunk in answer.aiter_raw():
            read += chunk
            if len(read) >= READ_LIMIT:
                break  # the rest is dropped with the connection, never read
    except httpx.StreamConsumed:
        read += answer.content  # an answer built in memory (httpx.MockTransport) comes already read
    return read[:READ_LIMIT].decode("utf-8", errors="replace")[:EXCERPT_CHARS]


def _literal_refusal(url: str) -> str | None:
    try:
        host = httpx.URL(url).host
    except httpx.InvalidURL:
        return None  # the client says why
    found = literal(host)
    kind = forbidden(found) if found is not None else None
    return Refused(kind, str(found), resolved=False).reason if kind else None


def _reason(exc: BaseException) -> str:
    """A short reason for a failed connection, from the innermost OS error when there is one."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return "does not resolve"
        if isinstance(seen, ConnectionRefusedError) or getattr(seen, "errno", None) == errno.ECONNREFUSED:
            return "connection refused"
        if "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return "TLS certificate not trusted"
        seen = seen.__cause__ or seen.__context__
    text = str(exc) or type(exc).__name__
    if "does not resolve" in text:
        return "does not resolve"
    if isinstance(exc, (httpx.RemoteProtocolError, httpcore.RemoteProtocolError)):
        return f"invalid answer: {text}"[:200]
    if isinstance(exc, (httpx.ReadError, httpcore.ReadError, httpx.WriteError, httpcore.WriteError)):
        return "connection dropped by the receiver"
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol, httpcore.UnsupportedProtocol)):
        return f"invalid URL: {text}"[:200]
    return f"could not connect: {text}"[:200]


async def url_problem(url: str, *, production: bool, allow_private: bool, lookup: Resolve = resolve) -> str | None:
    """Why ``url`` cannot be a subscription's address, or None.

    In production it must be https and resolve, to public addresses only unless
    ``allow_private``; outside production http is fine and, with
    ``allow_private``, so are loopback and private hosts that may not resolve yet.
    """
    if len(url) > MAX_URL_LENGTH:
        return f"a URL must be at most {MAX_URL_LENGTH} characters"
    parts = urlsplit(url)
    schemes = ("https",) if production else ("https", "http")
    if parts.scheme.lower() not in schemes:
        return "the URL must start with https://" if production else "the URL must start with http:// or https://"
    if "@" in parts.netloc:
        return "the URL must not carry a user or password"
    if parts.fragment or url.endswith("#"):
        return "the URL must not have a fragment (#...)"
    if not parts.hostname:
        return "the URL must have a host"
    try:
        port = parts.port
    except ValueError:
        return "the URL's port must be a number from 1 to 65535"
    if port is None:
        port = 443 if parts.scheme.lower() == "https" else 80
    elif port == 0:
        return "the URL's port must be a number from 1 to 65535"
    if allow_private and not production:
        return None
    try:
        if allow_private:
            addresses = await lookup(parts.hostname, port)
        else:
            addresses = await checked_addresses(parts.hostname, port, lookup)
    except Refused as exc:
        return f"the URL's host {'resolves to' if exc.resolved else 'is'} {_a(exc.kind)} address {exc.address}"
    except (OSError, UnicodeError):
        return "the URL's host does not resolve"
    return None if addresses else "the URL's host does not resolve"
