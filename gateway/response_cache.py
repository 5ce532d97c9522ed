"""The response cache: anonymous storefront reads answered from memory, as ASGI middleware.

What is cached: a GraphQL *query* (never a mutation) sent without a shopper
token, whose document touches no shopper's or merchant's own data (``me``,
``cart``, ``order``, ``merchant``), answered 200 with data and no errors. The
key is the shop key, the document's hash, the operation name and the
variables in canonical form. Everything else passes through untouched, and a
token-bearing answer is marked ``private, no-store``.

An entry is fresh for ``ttl`` seconds, then stale for nine times as long.
When it expires under load exactly one request recomputes it (per worker, and
per deployment with Redis: a claim in the shared state) while the others get
the stale entry, or wait for the recompute when there is none: never a
stampede. A shop's entries are dropped at once when a merchant write
invalidates the shop (see ``InvalidateOnMerchantWrite``), here and, through
the shared state, in every worker.

GET answers carry ``Cache-Control: public, max-age=<ttl>,
stale-while-revalidate=<9 ttl>`` and an ETag (304 on ``If-None-Match``), so a
CDN or nginx in front can cache the same way.

The first level is this worker's memory, least recently used out first,
bounded in bytes; the shared state (Redis) is the second.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationType,
    parse,
)
from graphql.utilities import get_operation_ast
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.shops.port import KeyKind
from gateway.auth import KeyDirectory, access_in
from gateway.edge import BODY_KEY, SCOPE_KEY
from gateway.observe import CACHE_KEY
from gateway.operations import operation_of, query_string_request
from gateway.shared import ALL_SHOPS, SharedState

PRIVATE_ROOT_FIELDS = frozenset({"me", "cart", "order", "merchant"})
STALE_FACTOR = 9
_CLAIM_SECONDS = 5.0  # a worker that dies holding a claim holds it no longer than this
_WAIT_FOR_PEER = 1.0  # how long to wait for another worker's recompute when nothing stale is at hand
_ENTRY_OVERHEAD = 400  # the key, the entry and the dicts' slots, roughly
_PRIVATE = [(b"cache-control", b"private, no-store")]
_NO_STORE = [(b"cache-control", b"no-store")]


@dataclass(frozen=True, slots=True)
class Entry:
    body: bytes
    etag: bytes
    fresh_until: float  # wall-clock seconds: comparable between workers
    stale_until: float
    shop_id: int

    def pack(self) -> bytes:
        return b"%.6f %.6f %s\n" % (self.fresh_until, self.stale_until, self.etag) + self.body

    @classmethod
    def unpack(cls, data: bytes, shop_id: int) -> Entry | None:
        head, sep, body = data.partition(b"\n")
        parts = head.split(b" ")
        if not sep or len(parts) != 3:
            return None
        try:
            return cls(body, parts[2], float(parts[0]), float(parts[1]), shop_id)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Captured:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class Memory:
    """This worker's entries, least recently used out first once past ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._by_shop: dict[int, set[str]] = {}

    def get(self, key: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        if _cost(entry) > self.max_bytes:
            return
        self._forget(key)
        self._entries[key] = entry
        self._by_shop.setdefault(entry.shop_id, set()).add(key)
        self.size += _cost(entry)
        while self.size > self.max_bytes:
            oldest = next(iter(self._entries))
            self._forget(oldest)

    def drop_shop(self, shop_id: int) -> None:
        keys = list(self._entries) if shop_id == ALL_SHOPS else list(self._by_shop.get(shop_id, ()))
        for key in keys:
            self._forget(key)

    def _forget(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self.size -= _cost(entry)
        keys = self._by_shop.get(entry.shop_id)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_shop[entry.shop_id]


def _cost(entry: Entry) -> int:
    return len(entry.body) + _ENTRY_OVERHEAD


class Documents:
    """Whether a document's operation may be cached, remembered per document."""

    def __init__(self, max_documents: int = 1024) -> None:
        self._max = max_documents
        self._known: OrderedDict[bytes, frozenset[str] | None] = OrderedDict()

    def cacheable(self, query: str, operation_name: str | None) -> frozenset[str] | None:
        """The names of the operation's variables when it may be cached, else None."""
        key = hashlib.sha256(f"{operation_name}\0{query}".encode("utf-8", "surrogatepass")).digest()
        if key in self._known:
            self._known.move_to_end(key)
            return self._known[key]
        known = self._classify(query, operation_name)
        self._known[key] = known
        if len(self._known) > self._max:
            self._known.popitem(last=False)
        return known

    @staticmethod
    def _classify(query: str, operation_name: str | None) -> frozenset[str] | None:
        try:
            document = parse(query, no_location=True, max_tokens=10_000)
        except (GraphQLError, RecursionError):
            return None  # the GraphQL view answers it, with the error
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return None
        fragments = {d.name.value: d for d in document.definitions if hasattr(d, "selection_set") and hasattr(d, "type_condition")}
        pending, seen = [operation.selection_set], set()
        while pending:
            for selection in pending.pop().selections:
                if isinstance(selection, FieldNode):
                    if selection.name.value in PRIVATE_ROOT_FIELDS:
                        return None
                elif isinstance(selection, InlineFragmentNode):
                    pending.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                    seen.add(selection.name.value)
                    fragment = fragments.get(selection.name.value)
                    if fragment is not None:
                        pending.append(fragment.selection_set)
        return frozenset(v.variable.name.value for v in operation.variable_definitions or ())


class ResponseCache:
    """Pure ASGI middleware in front of the router: a hit never reaches it."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: KeyDirectory,
        shared: SharedState,
        ttl_seconds: float,
        max_bytes: int,
        path: str = "/graphql",
        clock: Callable[[], float] = time.time,
        budgeted_clients: bool = False,
    ) -> None:
        self.app = app
        # A request that spends a budget must reach the view, which takes from it: a secret
        # key always, a publishable key when shoppers have budgets (JIMU_CLIENT_BUDGET).
        self._budgeted_clients = budgeted_clients
        self._keys = keys
        self._shared = shared
        self._ttl = ttl_seconds
        self._path = path
        self._clock = clock
        self.memory = Memory(max_bytes)
        self._documents = Documents()
        self._flights: dict[str, asyncio.Future[Entry | None]] = {}
        self._generation = 0
        self.stats = {"hit": 0, "stale": 0, "miss": 0, "wait": 0}
        shared.subscribe(self._invalidated)

    def _invalidated(self, shop_id: int) -> None:
        self._generation += 1
        self.memory.drop_shop(shop_id)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self._path:
            await self.app(scope, receive, send)
            return
        headers = _first_headers(scope["headers"])
        if b"authorization" in headers:
            await self.app(scope, receive, _with_headers(send, _PRIVATE))
            return
        method = scope["method"]
        if self._ttl <= 0 or method not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        body = b""
        if method == "POST":
            # what the edge (gateway.edge) read, decoded and checked; nothing when it did not
            body, request = scope.get(BODY_KEY, b""), scope.get(SCOPE_KEY)
        else:
            request = query_string_request(scope.get("query_string", b""))
            if request is None:  # the playground, or a GET GraphQL cannot use: not ours to judge
                await self.app(scope, receive, send)
                return
        key = await self._cache_key(scope, headers, request)
        if key is None:
            await self.app(scope, receive, _with_headers(send, _NO_STORE) if method == "GET" else send)
            return
        shop_id, digest = key

        async def compute() -> Captured:
            return await _capture(self.app, scope, _replay(body) if method == "POST" else receive)

        entry, captured = await self._lookup(shop_id, digest, compute)
        scope[CACHE_KEY] = "miss" if captured is not None else "hit"
        if entry is None:  # not cacheable: the answer as the app gave it
            assert captured is not None
            extra = _NO_STORE if method == "GET" else []
            await _send(send, captured.status, captured.headers + extra, captured.body)
        elif method == "GET":
            await self._send_get(send, entry, headers.get(b"if-none-match"))
        else:
            await _send(send, 200, [(b"content-type", b"application/json")], entry.body)

    async def _cache_key(
        self, scope: Scope, headers: dict[bytes, bytes], request: dict[str, Any] | None
    ) -> tuple[int, str] | None:
        operation = operation_of(request, extensions=True)
        if operation is None:
            return None
        query, name, variables = operation.query, operation.name, operation.variables
        shop_key = headers.get(b"x-jimu-key", b"").decode("latin-1").strip()
        if not shop_key:
            return None
        try:
            access = await access_in(self._keys, scope)
        except Exception:  # noqa: BLE001 - the app answers it, with its error
            return None
        if access is None or access.kind is KeyKind.SECRET or self._budgeted_clients:
            return None
        declared = self._documents.cacheable(query, name)
        if declared is None:
            return None
        try:  # only the declared variables change the answer: others are not part of the key
            canonical = orjson.dumps({k: v for k, v in variables.items() if k in declared},
                                     option=orjson.OPT_SORT_KEYS)
        except (TypeError, orjson.JSONEncodeError):
            return None
        digest = hashlib.sha256()
        for part in (shop_key.encode(), query.encode("utf-8", "surrogatepass"), (name or "").encode(), canonical):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
        return access.shop.id, digest.hexdigest()

    async def _lookup(
        self, shop_id: int, key: str, compute: Callable[[], Awaitable[Captured]]
    ) -> tuple[Entry | None, Captured | None]:
        generation = self._generation  # an invalidation after this makes what we read untrustworthy
        now = self._clock()
        entry = self.memory.get(key)
        if entry is None or entry.fresh_until <= now:
            shared = await self._shared.get(key)
            found = Entry.unpack(shared, shop_id) if shared is not None else None
            if generation != self._generation:
                entry = None
            elif found is not None and found.stale_until > now and (entry is None or found.fresh_until > entry.fresh_until):
                entry = found
                self.memory.put(key, entry)
        if entry is not None and entry.fresh_until > now:
            self.stats["hit"] += 1
            return entry, None
        usable = entry if entry is not None and entry.stale_until > now else None
        flight = self._flights.get(key)
        if flight is not None:
            if usable is not None:
                self.stats["stale"] += 1
                return usable, None
            self.stats["wait"] += 1
            done = await asyncio.shield(flight)
            if done is not None:
                return done, None
            return None, await compute()  # the recompute was not cacheable: answer this one ourselves
        # This request leads: the flight is registered before anything is awaited.
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            entry, captured = await self._recompute(shop_id, key, usable, compute, generation)
            flight.set_result(entry)
            return entry, captured
        finally:
            if self._flights.get(key) is flight:
                del self._flights[key]
            if not flight.done():
                flight.set_result(None)  # cancelled or failed: the waiters answer for themselves

    async def _recompute(
        self, shop_id: int, key: str, usable: Entry | None, compute: Callable[[], Awaitable[Captured]], generation: int
    ) -> tuple[Entry | None, Captured | None]:
        claimed = await self._shared.claim(key, _CLAIM_SECONDS)
        try:
            if not claimed:  # another worker recomputes it
                if usable is not None:
                    self.stats["stale"] += 1
                    return usable, None
                peer = await self._wait_for_peer(shop_id, key, generation)
                if peer is not None:
                    return peer, None
            self.stats["miss"] += 1
            captured = await compute()
            entry = self._entry(shop_id, captured)
            if entry is None or generation != self._generation:  # not cacheable, or invalidated meanwhile
                return None, captured
            self.memory.put(key, entry)
            await self._shared.put(shop_id, key, entry.pack(), entry.stale_until - self._clock())
            return entry, captured
        finally:
            if claimed:
                await self._shared.release(key)

    async def _wait_for_peer(self, shop_id: int, key: str, generation: int) -> Entry | None:
        deadline = self._clock() + _WAIT_FOR_PEER
        while self._clock() < deadline:
            await asyncio.sleep(0.02)
            shared = await self._shared.get(key)
            entry = Entry.unpack(shared, shop_id) if shared is not None else None
            if generation != self._generation:
                return None
            if entry is not None and entry.fresh_until > self._clock():
                self.memory.put(key, entry)
                return entry
            if await self._shared.claim(key, _CLAIM_SECONDS):  # the peer gave up: not worth waiting for
                await self._shared.release(key)
                return None
        return None

    def _entry(self, shop_id: int, captured: Captured) -> Entry | None:
        if captured.status != 200:
            return None
        try:
            answer = orjson.loads(captured.body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(answer, dict) or answer.get("errors") or answer.get("data") is None:
            return None
        now = self._clock()
        etag = b'"' + hashlib.blake2b(captured.body, digest_size=12).hexdigest().encode() + b'"'
        return Entry(captured.body, etag, now + self._ttl, now + self._ttl * (1 + STALE_FACTOR), shop_id)

    async def _send_get(self, send: Send, entry: Entry, if_none_match: bytes | None) -> None:
        max_age = max(int(entry.fresh_until - self._clock()), 0)
        control = b"public, max-age=%d, stale-while-revalidate=%d" % (max_age, int(self._ttl * STALE_FACTOR))
        headers = [(b"cache-control", control), (b"etag", entry.etag), (b"vary", b"X-Jimu-Key, Authorization")]
        if if_none_match is not None and entry.etag in [tag.strip() for tag in if_none_match.split(b",")]:
            await _send(send, 304, headers, b"")
            return
        await _send(send, 200, [(b"content-type", b"application/json"), *headers], entry.body)


def _first_headers(raw: list[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """Each header's first value, as the app reads it (``Headers.get``): a second
    X-Jimu-Key must not make the cache key differ from the shop that answered."""
    found: dict[bytes, bytes] = {}
    for name, value in raw:
        found.setdefault(name.lower(), value)
    return found


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> Captured:
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return Captured(status, headers, b"".join(chunks))


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending
