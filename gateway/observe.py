"""The first stage: every request gets an id, and when it is answered, one record of it.

The id is the client's ``X-Request-Id`` when it is a plain token (a proxy in
front sets one), else a new one; the answer echoes it. The record says what a
GraphQL operator asks of a request: which operation, of which shop and
shopper, how long it took, its status, its error codes, its cost, whether the
response cache answered it and how many SQL statements it ran. The stages
further in leave what they learned in the scope; this stage reads it once the
answer is sent and hands the record to its listeners (the log line, the
metrics), so no stage knows who listens.

Nothing secret is in a record: no key, no token, no document text, no variables.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.remote.client import Deadline, request_deadline
from gateway.admission import PRICED_KEY
from gateway.edge import SCOPE_KEY
from gateway.operations import query_string_request

log = logging.getLogger("jimu.request")

REQUEST_ID_HEADER = b"x-request-id"
ACCESS_KEY = "jimu.access"  # gateway.auth's memo of the key's access
SHOPPER_KEY = "jimu.shopper"  # the signed-in shopper's id, once the context resolved it
CACHE_KEY = "jimu.cache"  # "hit" or "miss", when the response cache took the request
ACTUAL_COST_KEY = "jimu.actual_cost"  # what the answer cost, once it is counted
CLEAN_KEY = "jimu.clean"  # set by a stage that knows its answer holds no errors (a plan's)
COUPON_CLAIMED = "coupon_claimed"  # events a request notes (``note``) for the metrics
ASSIST_COUPON_GRANTED = "assist_coupon_granted"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+=/-]{1,128}")
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
_OPERATION = re.compile(r"\b(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?")
_MAX_SNIFFED = 1 << 20  # error codes are read from answers up to this size


@dataclass(slots=True)
class Observed:
    """One request, as the log line and the metrics tell it."""

    request_id: str
    method: str
    path: str
    status: int = 0
    seconds: float = 0.0
    operation: str | None = None  # the operation's name; None for an anonymous one
    kind: str | None = None  # query, mutation or subscription, for a GraphQL request
    shop: str | None = None  # the shop's handle, once a key named one
    shopper_id: int | None = None
    codes: list[str] = field(default_factory=list)  # the GraphQL errors' codes, in order
    cost: tuple[int, int] | None = None  # requested and actual, once priced
    cache: str | None = None
    statements: int = 0  # SQL statements the request ran (see ``count_statement``)
    events: list[str] = field(default_factory=list)  # what it did that counts (see ``note``)

    def fields(self) -> dict[str, Any]:
        """The record as the structured log line has it (absent facts left out)."""
        out: dict[str, Any] = {"request_id": self.request_id, "method": self.method, "path": self.path,
                               "status": self.status, "duration_ms": round(self.seconds * 1000, 2)}
        for name in ("operation", "kind", "shop", "shopper_id", "cache"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.codes:
            out["error_codes"] = self.codes
        if self.cost is not None:
            out["cost"] = {"requested": self.cost[0], "actual": self.cost[1]}
        if self.statements:
            out["sql_statements"] = self.statements
        if self.events:
            out["events"] = self.events
        return out


_current: ContextVar[Observed | None] = ContextVar("jimu.observed", default=None)


def count_statement() -> None:
    """Count one SQL statement against the request being answered (none outside one: the sweep)."""
    observed = _current.get()
    if observed is not None:
        observed.statements += 1


def note(event: str) -> None:
    """Record that the request being answered did something the metrics count (a coupon
    claimed): the resolver says what happened, the listeners decide what to make of it."""
    observed = _current.get()
    if observed is not None:
        observed.events.append(event)


Listener = Callable[[Observed], None]


def log_request(observed: Observed) -> None:
    log.info("%s %s %s", observed.method, observed.path, observed.status, extra={"jimu": observed.fields()})


class Observe:
    """Pure ASGI middleware, outermost: the request id in, the record out. ``listeners``
    hear of each request once it is answered; ``answering`` as its answer starts, with the
    id, status and shop known (a trace's request span ends with the answer's last byte)."""

    def __init__(self, app: ASGIApp, listeners: Sequence[Listener] = (log_request,),
                 answering: Sequence[Listener] = ()) -> None:
        self.app = app
        self._listeners = tuple(listeners)
        self._answering = tuple(answering)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        observed = Observed(request_id(scope), scope["method"], scope["path"])
        header = (REQUEST_ID_HEADER, observed.request_id.encode())
        sniffed: list[bytes] = []

        async def send_observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                observed.status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
                if self._answering:
                    _shop(observed, scope)
                    _tell(self._answering, observed)
            elif message["type"] == "http.response.body" and len(sniffed) < 64:
                sniffed.append(message.get("body", b""))
            await send(message)

        token = _current.set(observed)
        # One budget for the request's calls to merchants' systems, however many resolvers make them.
        deadline = request_deadline.set(Deadline())
        try:
            await self.app(scope, receive, send_observed)
        except BaseException:
            observed.status = observed.status or 500
            raise
        finally:
            request_deadline.reset(deadline)
            _current.reset(token)
            observed.seconds = time.perf_counter() - started
            _learn(observed, scope, b"".join(sniffed))
            _tell(self._listeners, observed)


def request_id(scope: Scope) -> str:
    """The client's X-Request-Id when it is a plain token of up to 128 characters, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def _tell(listeners: tuple[Listener, ...], observed: Observed) -> None:
    for listener in listeners:
        try:
            listener(observed)
        except Exception:  # a listener's bug must not fail the answer
            logging.getLogger("jimu.observe").exception("a request listener failed")


def _shop(observed: Observed, scope: Scope) -> None:
    access = scope.get(ACCESS_KEY)
    if access is not None:
        observed.shop = access.shop.handle


def _learn(observed: Observed, scope: Scope, body: bytes) -> None:
    """Fill the record from what the stages left in the scope, and the answer's error codes."""
    _shop(observed, scope)
    observed.shopper_id = scope.get(SHOPPER_KEY)
    observed.cache = scope.get(CACHE_KEY)
    priced = scope.get(PRICED_KEY)
    if priced is not None:
        observed.cost = (priced.requested, scope.get(ACTUAL_COST_KEY, 0))
    request = scope.get(SCOPE_KEY) if scope["method"] == "POST" else None
    if request is None and scope["method"] == "GET" and scope["path"] == "/graphql":
        request = query_string_request(scope.get("query_string", b""))
    if isinstance(request, dict):
        _operation(observed, request, priced)
    # Looking for "errors" in a 30 KB listing costs 15 us: not done where the answer is known
    # to hold none (a plan's, or a cached one: only answers without errors are cached).
    clean = scope.get(CLEAN_KEY) or observed.cache == "hit"
    if not clean and len(body) <= _MAX_SNIFFED and b'"errors"' in body:
        observed.codes = _codes(body)


def _operation(observed: Observed, request: dict[str, Any], priced: Any) -> None:
    name, query = request.get("operationName"), request.get("query")
    if isinstance(name, str) and _NAME.fullmatch(name):  # a GraphQL name, or none: never free text
        observed.operation = name
    if not isinstance(query, str):
        return
    if priced is not None:
        observed.kind = "mutation" if priced.mutations else "query"
    if query.lstrip().startswith("{"):  # the shorthand: one anonymous query
        observed.kind = observed.kind or "query"
        return
    # The first operation in the document: what a document of one operation runs, and a
    # good guess for the others (the name, when given, is what was asked for).
    found = _OPERATION.search(query, 0, 4096)
    if found is None:
        return
    observed.kind = observed.kind or found.group(1)
    if observed.operation is None and found.group(2) and _NAME.fullmatch(found.group(2)):
        observed.operation = found.group(2)


def _codes(body: bytes) -> list[str]:
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return []
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if not isinstance(errors, list):
        return []
    codes = []
    for error in errors[:50]:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        codes.append(code if isinstance(code, str) else "UNCODED")
    return codes
