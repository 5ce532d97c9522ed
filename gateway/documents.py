"""The documents stage: a request that names a persisted document becomes a plain one.

Pure ASGI middleware, right behind the edge and before the response cache, for the GraphQL
path only. A request may name its document instead of sending it:

- ``extensions.persistedQuery {version: 1, sha256Hash}`` (Apollo's automatic persisted
  queries), in a POST body or as GET's ``extensions`` parameter: hash only, the document is
  looked up; hash and ``query``, the hash is checked and the document registered;
- ``documentId`` (a body member or a GET parameter): one of the key's shop's trusted documents.

Either way the request goes on as a plain ``{query, variables, operationName}``: the body, its
decoded form and its replay (or the GET query string) are rewritten, so the cache, the plans
and the cost see an ordinary request and key on the document itself.

A publishable-key request also meets its shop's policy (the shop's ``trusted_documents``, else
``JIMU_TRUSTED_DOCUMENTS``): under ``require`` only a trusted document runs (named by id, by
hash, or sent whole and hashing to a trusted one); under ``audit`` any runs and the untrusted
are logged (``jimu.documents``: shop, operation name, hash; once per worker each). Secret keys
always run ad-hoc documents, and so does the development playground (``X-Jimu-Playground: 1``,
honoured outside production only).

Answers before the view (every one coded, never cached)::

    200 PERSISTED_QUERY_NOT_FOUND      hash only, not known: send it again with the query
    400 PERSISTED_QUERY_HASH_MISMATCH  the hash is not the SHA-256 of the query sent
    400 BAD_REQUEST                    a malformed documentId or persistedQuery, or both at once
    403 QUERY_NOT_IN_SAFELIST          require: the document is not one of the shop's trusted ones
    404 PERSISTED_QUERY_NOT_IN_LIST    the documentId is not on the shop's trusted list
    503 SERVICE_UNAVAILABLE            the document store did not answer
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from graphql import GraphQLSchema
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.documents.rules import SHA256_PATTERN, id_problem, sha256_of
from adapters.shops.port import KeyKind, TrustedDocuments
from gateway.auth import KeyDirectory, ShopAccess, access_in
from gateway.document_cache import DocumentTexts, TrustedLists
from gateway.document_check import document_problem
from gateway.edge import BODY_KEY, SCOPE_KEY, Refused, graphql_refusal
from gateway.settings import DEVELOPMENT_EXTENSIONS

log = logging.getLogger("jimu.documents")

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PLAYGROUND_HEADER = "X-Jimu-Playground"
_MAX_AUDITED = 10_000


@dataclass(frozen=True, slots=True)
class Named:
    """What a request says of its document: an id, a hash, the text, or some of them."""

    document_id: str | None
    sha256: str | None
    query: str | None


class Documents:
    def __init__(
        self,
        app: ASGIApp,
        *,
        texts: DocumentTexts,
        trusted: TrustedLists,
        keys: KeyDirectory,
        schema: GraphQLSchema,
        default_policy: TrustedDocuments,
        production: bool,
        path: str = "/graphql",
    ) -> None:
        self.app = app
        self._texts = texts
        self._trusted = trusted
        self._keys = keys
        self._schema = schema
        self._default = default_policy
        self._production = production
        self._path = path
        self._audited: set[tuple[int, str]] = set()
        self._extensions = {} if production else DEVELOPMENT_EXTENSIONS

    def _refusal(self, refused: Refused):  # type: ignore[no-untyped-def]
        return _refusal(refused, self._extensions)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self._path or scope["method"] not in ("GET", "POST"):
            await self.app(scope, receive, send)
            return
        request = _request_of(scope)
        if request is None:  # not JSON, or the playground page: not ours to judge
            await self.app(scope, receive, send)
            return
        try:  # only what this stage does: the stages behind answer their own failures
            named = named_in(request)
            access = await self._access(scope)
            policy = self._policy(scope, access)
            untouched = named.document_id is None and named.sha256 is None and policy is TrustedDocuments.OFF
            query = None if untouched else await self._document(named, access, policy, request.get("operationName"))
        except Refused as refused:
            await self._refusal(refused)(scope, receive, send)
            return
        except Exception:  # the store or the keys did not answer: say so, in the GraphQL shape
            log.exception("the document store did not answer")
            await self._refusal(Refused(503, "persisted documents are not available just now; try again",
                                   "SERVICE_UNAVAILABLE"))(scope, receive, send)
            return
        if query is None:  # the common case (untouched), or nothing to put in: strawberry says what is missing
            await self.app(scope, receive, send)
            return
        if named.document_id is None and named.sha256 is None:
            await self.app(scope, receive, send)  # a plain document that passed the policy
            return
        receive = _rewrite(scope, receive, request, query)
        await self.app(scope, receive, send)

    async def _access(self, scope: Scope) -> ShopAccess | None:
        return await access_in(self._keys, scope)

    def _policy(self, scope: Scope, access: ShopAccess | None) -> TrustedDocuments:
        """The policy this request meets: only a publishable key's, outside the dev playground."""
        if access is None or access.kind is KeyKind.SECRET:
            return TrustedDocuments.OFF  # no key: nothing shop's runs anyway; a secret key: anything
        if not self._production and _header(scope, PLAYGROUND_HEADER.lower().encode()) == "1":
            return TrustedDocuments.OFF
        return access.shop.policy.trusted_documents or self._default

    async def _document(
        self, named: Named, access: ShopAccess | None, policy: TrustedDocuments, operation: object
    ) -> str | None:
        """The document to run, once the policy allows it; registered when sent with its hash."""
        shop = access.shop if access is not None else None
        if named.document_id is not None:
            if shop is None:
                raise Refused(404, f"documentId {named.document_id!r} names one of a shop's trusted documents: "
                                   "send the shop's key in X-Jimu-Key", "PERSISTED_QUERY_NOT_IN_LIST")
            entry = (await self._trusted.of(shop.id)).by_id.get(named.document_id)
            text = await self._texts.text(entry.sha256) if entry is not None else None
            if text is None:
                raise Refused(404, f"documentId {named.document_id!r} is not one of this shop's trusted documents "
                                   "(jimu documents list shows them)", "PERSISTED_QUERY_NOT_IN_LIST")
            return text
        sha, query = named.sha256, named.query
        if sha is not None and query is not None and sha256_of(query) != sha:
            raise Refused(400, "persistedQuery.sha256Hash is not the SHA-256 of the query sent (the lowercase hex "
                               "digest of its UTF-8 text)", "PERSISTED_QUERY_HASH_MISMATCH")
        if policy is not TrustedDocuments.OFF and (sha is not None or query is not None):
            assert shop is not None  # a policy applies to a publishable key only
            sha = sha or sha256_of(query or "")
            if sha not in (await self._trusted.of(shop.id)).hashes:
                if policy is TrustedDocuments.REQUIRE:
                    raise Refused(403, f"shop {shop.handle} runs trusted documents only: send the documentId (or "
                                       "the persistedQuery hash) of a document pushed with `jimu documents push`; "
                                       "ad-hoc documents need the secret key", "QUERY_NOT_IN_SAFELIST")
                self._audit(shop.id, shop.handle, operation, sha)
        if sha is None:
            return query
        if query is None:
            text = await self._texts.text(sha)
            if text is None:  # Apollo's clients send the query on this exact message and code
                raise Refused(200, "PersistedQueryNotFound", NOT_FOUND)
            return text
        if shop is not None and not self._texts.registered_lately(sha):
            # Registered for a shop's key only, and only what could run: nothing else fills the table.
            # Again when it is known (a client sends the text after a worker that had it no longer
            # did: the sweep forgot it), so that it counts from now.
            if self._texts.holds(sha) or document_problem(self._schema, query) is None:
                await self._texts.register(sha, query)
        return query

    def _audit(self, shop_id: int, handle: str, operation: object, sha: str) -> None:
        if (shop_id, sha) in self._audited:
            return
        if len(self._audited) >= _MAX_AUDITED:
            self._audited.clear()
        self._audited.add((shop_id, sha))
        name = operation if isinstance(operation, str) and operation else "(unnamed)"
        log.warning("untrusted document (audit): shop %s, operation %s, sha256 %s", handle, name[:200], sha)


def named_in(request: dict[str, Any]) -> Named:
    """What the request names; ``Refused`` (400) for a malformed ``documentId`` or
    ``persistedQuery``, or for two ways of naming the document at once."""
    query = request.get("query")
    query = query if isinstance(query, str) and query else None
    document_id = request.get("documentId")
    if document_id is not None:
        why = id_problem(document_id)
        if why is not None:
            raise Refused(400, f"documentId: {why.removeprefix('the id ')} (the id of one of the shop's trusted "
                               "documents)")
    extensions = request.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    sha = None
    if persisted is not None:
        if not isinstance(persisted, dict):
            raise Refused(400, "extensions.persistedQuery must be an object: {version: 1, sha256Hash}")
        version = persisted.get("version")
        if version != 1 or isinstance(version, bool):
            raise Refused(400, f"persistedQuery version {_said(version)} is not supported: version 1 (SHA-256)")
        sha = persisted.get("sha256Hash")
        if not isinstance(sha, str) or not SHA256_PATTERN.fullmatch(sha.lower()):
            raise Refused(400, "persistedQuery.sha256Hash must be the 64 hex digits of the document's SHA-256")
        sha = sha.lower()
    if document_id is not None and (query is not None or sha is not None):
        raise Refused(400, "send the documentId alone: not with a query or a persistedQuery")
    return Named(document_id, sha, query)


def _request_of(scope: Scope) -> dict[str, Any] | None:
    """The request's GraphQL members: the POST body the edge decoded, or GET's parameters
    (``extensions`` decoded; the edge checked it is a JSON object)."""
    if scope["method"] == "POST":
        body = scope.get(SCOPE_KEY)
        return body if isinstance(body, dict) else None
    params: dict[str, Any] = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    if not params.keys() & {"query", "documentId", "extensions"}:
        return None
    if params.get("extensions"):
        try:
            params["extensions"] = json.loads(params["extensions"])
        except ValueError:
            return None  # strawberry refuses it
    return params


def _rewrite(scope: Scope, receive: Receive, request: dict[str, Any], query: str) -> Receive:
    """The request as a plain one carrying ``query``, for every stage behind this one."""
    plain = {k: v for k, v in request.items() if k != "documentId"}
    plain["query"] = query
    extensions = plain.get("extensions")
    if isinstance(extensions, dict):
        rest = {k: v for k, v in extensions.items() if k != "persistedQuery"}
        if rest:
            plain["extensions"] = rest
        else:
            del plain["extensions"]
    if scope["method"] == "GET":
        if "extensions" in plain:
            plain["extensions"] = json.dumps(plain["extensions"])
        scope["query_string"] = urlencode(plain).encode("ascii")
        return receive
    body = orjson.dumps(plain)
    scope[SCOPE_KEY], scope[BODY_KEY] = plain, body
    scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
    scope["headers"].append((b"content-length", str(len(body)).encode()))
    return _replay(body, receive)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Gives ``body`` instead of the request's own (which the edge replays: passed over)."""
    step = 0

    async def replay() -> Message:
        nonlocal step
        step += 1
        if step == 1:
            return {"type": "http.request", "body": body, "more_body": False}
        message = await receive()
        if step == 2 and message["type"] == "http.request":
            return await receive()  # the original body, given once more by the edge: not ours
        return message

    return replay


def _header(scope: Scope, name: bytes) -> str:
    """The header's first value (as Starlette reads it), or ""."""
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _said(value: object) -> str:
    return repr(value)[:40]


def _refusal(refused: Refused, extensions: dict[str, str]):  # type: ignore[no-untyped-def]
    response = graphql_refusal(refused, extensions)
    # never kept by a CDN: a hash unknown now is registered a moment later
    response.headers["cache-control"] = "private, no-cache, must-revalidate" if refused.code == NOT_FOUND else "no-store"
    return response
