"""The edge: what no stage behind it can use is refused here, before anything parses it deeply.

Pure ASGI middleware, the first stage to read a request. For the GraphQL endpoint and the payment
webhooks it reads the whole body (413 past the route's limit) and refuses with
400, in the route's own error shape, a body or query string that is:

- not JSON, or (for GraphQL) JSON that is not an object;
- nested deeper than ``MAX_DEPTH`` arrays and objects, anywhere;
- holding a number beyond 64 bits, a string longer than ``MAX_STRING``
  (the GraphQL document itself may be ``MAX_DOCUMENT`` long), or U+0000;

and any request with a header longer than ``MAX_HEADER``. On the GraphQL endpoint
it reads the attribution headers (``X-Jimu-Scene``, ``X-Jimu-Channel``) once, for
every request: a malformed one is ``BAD_USER_INPUT`` naming the header and its
format, and what they say rides along as ``scope["jimu.attribution"]``. The check is one loop
over the decoded value, never a recursion, so a hostile body costs it no more
than its size. What passes is safe for every JSON reader behind it (strawberry's
``json``, the cache's canonical form, the webhooks' verifiers), and the decoded
body and its bytes ride along in the scope (``scope["jimu.json"]``,
``scope["jimu.body"]``) for the stages that can reuse them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.orders.rules import InvalidAttribution, attribution

MAX_DEPTH = 64
MAX_STRING = 16_384
MAX_DOCUMENT = 100_000
MAX_HEADER = 8_192
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_FLOAT_MAX = float(2**63)
SCOPE_KEY = "jimu.json"
BODY_KEY = "jimu.body"
ATTRIBUTION_KEY = "jimu.attribution"
# No text anywhere holds U+0000: PostgreSQL cannot store it, nor even compare with it.
NUL_REFUSED = "a string holds U+0000 (NUL), which no text here may hold"


class Refused(Exception):
    def __init__(self, status: int, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def problem(value: Any, *, long_document: bool = False) -> str | None:
    """What makes a decoded JSON value unusable, or None. With ``long_document``, the
    top-level ``query`` member may be a GraphQL document of ``MAX_DOCUMENT`` characters."""
    pending: list[tuple[Any, int, int]] = [(value, 1, MAX_STRING)]
    while pending:
        item, depth, longest = pending.pop()
        kind = type(item)
        if kind is dict or kind is list:
            if depth > MAX_DEPTH:
                return f"the JSON is nested deeper than {MAX_DEPTH} levels"
            if kind is dict:
                for key, member in item.items():
                    if len(key) > MAX_STRING:
                        return f"a JSON member name is longer than {MAX_STRING} characters"
                    if "\x00" in key:
                        return NUL_REFUSED
                    limit = MAX_DOCUMENT if long_document and depth == 1 and key == "query" else MAX_STRING
                    pending.append((member, depth + 1, limit))
            else:
                pending.extend((member, depth + 1, MAX_STRING) for member in item)
        elif kind is str:
            if len(item) > longest:
                return f"a JSON string is longer than {longest} characters"
            if "\x00" in item:
                return NUL_REFUSED
        elif kind is int:
            if not _INT_MIN <= item <= _INT_MAX:
                return "a JSON number is beyond 64 bits"
        elif kind is float:
            # orjson reads an integer beyond 64 bits as a float: refused with the floats out of range
            if not -_FLOAT_MAX < item < _FLOAT_MAX:
                return "a JSON number is beyond 64 bits"
    return None


def decode(body: bytes, *, graphql: bool) -> Any:
    """The body's JSON value, checked; ``Refused`` otherwise."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        said = str(exc)
        if "depth" in said:
            raise Refused(400, "the request body is nested too deeply") from exc
        if "number" in said:  # "number is infinity when parsed as double": thousands of digits
            raise Refused(400, "a JSON number is beyond 64 bits") from exc
        raise Refused(400, "the request body is not valid UTF-8 JSON") from exc
    if graphql and not isinstance(value, dict):
        raise Refused(400, "the request body must be a JSON object (query, variables, operationName)")
    found = problem(value, long_document=graphql)
    if found is not None:
        raise Refused(400, found)
    if graphql:
        for member, kinds, wanted in _MEMBERS:
            if member in value and not isinstance(value[member], kinds):
                raise Refused(400, f"{member} must be {wanted}")
    return value


_MEMBERS = (
    ("query", (str,), "a string (the GraphQL document)"),
    ("operationName", (str, type(None)), "a string or null"),
    ("variables", (dict, type(None)), "an object or null"),
    ("extensions", (dict, type(None)), "an object or null"),
)


def check_query_string(raw: bytes) -> None:
    """A GET request's parameters: the document bounded, ``variables`` and ``extensions``
    JSON objects as a body's would be."""
    try:
        params = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, max_num_fields=64)
    except ValueError as exc:
        raise Refused(400, "the query string has too many parameters") from exc
    for name, value in params:
        if name == "query":
            if len(value) > MAX_DOCUMENT:
                raise Refused(400, f"the query is longer than {MAX_DOCUMENT} characters")
        elif name in ("variables", "extensions"):
            if value:
                decoded = decode(value.encode("utf-8", "surrogatepass"), graphql=False)
                if not isinstance(decoded, dict | None):
                    raise Refused(400, f"{name} must be a JSON object")
        elif len(value) > MAX_STRING:
            raise Refused(400, f"the {name[:64]!r} parameter is longer than {MAX_STRING} characters")


def graphql_refusal(refused: Refused, extensions: Mapping[str, Any] | None = None) -> Response:
    """The GraphQL endpoint's shape: a GraphQL response with one coded error (and the
    answer's ``extensions``, when there are any)."""
    body: dict[str, Any] = {"data": None, "errors": [{"message": refused.message, "extensions": {"code": refused.code}}]}
    if extensions:
        body["extensions"] = dict(extensions)
    return JSONResponse(body, status_code=refused.status)


@dataclass(frozen=True, slots=True)
class Guarded:
    """A route the edge reads for: its body limit, whether it takes GraphQL requests, and
    the shape its refusals take."""

    max_bytes: int
    graphql: bool = False
    refusal: Callable[[Refused], Response] = graphql_refusal


class Edge:
    def __init__(self, app: ASGIApp, *, routes: dict[str, Guarded]) -> None:
        self.app = app
        self._routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._routes.get(scope.get("path", "")) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        try:
            declared, content_type, scene, channel = _headers(scope)
            if route.graphql:
                try:
                    scope[ATTRIBUTION_KEY] = attribution(scene, channel)
                except InvalidAttribution as exc:
                    raise Refused(400, str(exc), "BAD_USER_INPUT") from exc
            if scope["method"] == "GET":
                if route.graphql:
                    check_query_string(scope.get("query_string", b""))
                await self.app(scope, receive, send)
                return
            body, receive = await _read(receive, declared, route.max_bytes)
            scope[BODY_KEY] = body
            json_body = content_type.partition(b";")[0].strip().lower() == b"application/json"
            if body and (not route.graphql or json_body):
                scope[SCOPE_KEY] = decode(body, graphql=route.graphql)
            elif not body and not route.graphql:
                raise Refused(400, "the request body is empty")
        except Refused as refused:
            await route.refusal(refused)(scope, receive, send)
            return
        await self.app(scope, receive, send)


_ONCE = {b"x-jimu-scene": "X-Jimu-Scene", b"x-jimu-channel": "X-Jimu-Channel"}
_READ = frozenset((b"content-length", b"content-type", *_ONCE))


def _headers(scope: Scope) -> tuple[bytes | None, bytes, str | None, str | None]:
    """Content-Length, Content-Type, X-Jimu-Scene and X-Jimu-Channel (their first values,
    as Starlette reads them), once every header is checked for length."""
    wanted: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if len(value) > MAX_HEADER:
            raise Refused(400, f"the {name.decode('latin-1')[:64]} header is longer than {MAX_HEADER} bytes")
        if name in _READ:
            if name in wanted and name in _ONCE:  # which of two scenes would the order record?
                raise Refused(400, f"send the {_ONCE[name]} header once", "BAD_USER_INPUT")
            wanted.setdefault(name, value)
    scene, channel = wanted.get(b"x-jimu-scene"), wanted.get(b"x-jimu-channel")
    return (
        wanted.get(b"content-length"),
        wanted.get(b"content-type", b""),
        None if scene is None else scene.decode("latin-1"),
        None if channel is None else channel.decode("latin-1"),
    )




async def _read(receive: Receive, declared: bytes | None, max_bytes: int) -> tuple[bytes, Receive]:
    """The whole body (``Refused`` 413 past ``max_bytes``, declared or sent), and a receive
    that gives it again to the stages behind."""
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise Refused(413, f"the request body is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: nothing to answer
            raise Refused(400, "the request body did not arrive")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise Refused(413, f"the request body is larger than {max_bytes} bytes")
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: what the server says next (a disconnect)

    return body, replay
