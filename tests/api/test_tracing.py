"""Traces of real requests: the request's span, its operation's and its SQL's, in one trace."""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, get_current_span
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.db import Database
from gateway.app import create_app
from gateway.edge import Edge
from gateway.graphql import build_schema
from gateway.observe import Observe
from gateway.settings import Settings
from gateway.tracing import OperationSpans, run_plan, tag_request
from gateway.wiring import Adapters
from tests.api.test_checkout_story import CREATE, DELIVERY, REGION, token
from tests.conftest import make_gql

CHECKOUT = """mutation Checkout($id: ID!, $k: String!) {
  checkoutComplete(cartId: $id, idempotencyKey: $k) { order { number status } userErrors { code } } }"""
LISTING = "query Listing { products(first: 3) { nodes { handle title skus { code } } } }"
KEY = {"X-Jimu-Key": "pk_demo_panda"}


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(spans: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    return provider


@pytest.fixture
def traced_app(settings: Settings, demo: Adapters, provider: TracerProvider) -> Starlette:
    return create_app(settings, demo, tracer_provider=provider)


@pytest.fixture
async def traced(traced_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=traced_app), base_url="http://jimu.test") as c:
        yield c


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    names = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


def one(found: list[ReadableSpan], name: str) -> ReadableSpan:
    [span] = [s for s in found if s.name == name]
    return span


def sql(found: list[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in found if s.kind is SpanKind.CLIENT and "db.statement" in (s.attributes or {})]


async def test_a_checkout_is_one_trace_of_its_request_its_operation_and_its_sql(
    traced: httpx.AsyncClient, spans: InMemorySpanExporter
):
    # given a cart ready to check out
    gql = make_gql(traced)
    mum = await token(gql, "mum")
    cart = (await gql(CREATE, {"lines": [{"skuCode": "DIAPER-L54", "quantity": 1}]}, token=mum))["data"]["cartCreate"]["cart"]
    await gql(DELIVERY, {"id": cart["id"], "d": {"region": REGION, "tier": "STANDARD"}}, token=mum)
    spans.clear()

    # when she checks out
    placed = (await gql(CHECKOUT, {"id": cart["id"], "k": "idem-7f3a9c"}, token=mum))["data"]["checkoutComplete"]

    # then one trace: the request, the operation under it, the SQL under the operation
    assert placed["userErrors"] == [] and placed["order"]["status"] == "OPEN"
    found = list(spans.get_finished_spans())
    by_id = {s.context.span_id: s for s in found}
    request = one(found, "POST /graphql")
    operation = one(found, "GraphQL Query: Checkout")
    assert request.parent is None and request.kind is SpanKind.SERVER
    assert request.attributes["http.status_code"] == 200
    assert operation.parent.span_id == request.context.span_id
    assert operation.attributes["component"] == "graphql" and "checkoutComplete" in operation.attributes["query"]
    under_operation = [s for s in sql(found) if operation.name in ancestors(s, by_id)]
    statements = [s.attributes["db.statement"] for s in under_operation]
    assert any(text.startswith("INSERT INTO") for text in statements), statements
    assert {s.context.trace_id for s in found} == {request.context.trace_id}
    # statements' text, never their parameters: the idempotency key and the cart id are nowhere
    everything = repr([dict(s.attributes or {}) for s in found])
    assert "idem-7f3a9c" not in everything and cart["id"] not in everything


async def test_a_query_answered_on_its_plan_still_has_its_operation_span(
    traced: httpx.AsyncClient, spans: InMemorySpanExporter
):
    # given a listing already answered once (so the fast path has learnt its plan)
    first = await traced.post("/graphql", json={"query": LISTING}, headers=KEY)
    spans.clear()

    # when it is asked again
    again = await traced.post("/graphql", json={"query": LISTING}, headers=KEY)

    # then the same answer, and the operation's span, named as strawberry names it, holds its SQL
    assert again.json()["data"] == first.json()["data"]
    found = list(spans.get_finished_spans())
    by_id = {s.context.span_id: s for s in found}
    operation = one(found, "GraphQL Query: Listing")
    assert operation.attributes["jimu.fast_path"] is True and operation.attributes["query"] == LISTING
    assert operation.parent.span_id == one(found, "POST /graphql").context.span_id
    assert [s for s in sql(found) if operation.name in ancestors(s, by_id)], [s.name for s in found]
    assert "GraphQL Parsing" not in [s.name for s in found], "strawberry did not run it"


async def test_the_request_id_lands_on_the_request_span(traced: httpx.AsyncClient, spans: InMemorySpanExporter):
    # given a request that names itself, and one that does not
    named = await traced.post("/graphql", json={"query": LISTING}, headers={**KEY, "X-Request-Id": "req-5d1e"})
    unnamed = await traced.post("/graphql", json={"query": LISTING}, headers=KEY)
    # then each request's span carries the id its answer carried, and its shop; the operation's does not
    found = list(spans.get_finished_spans())
    requests = [s for s in found if s.name == "POST /graphql"]
    assert [r.attributes["jimu.request_id"] for r in requests] == ["req-5d1e", unnamed.headers["x-request-id"]]
    assert named.headers["x-request-id"] == "req-5d1e"
    assert {r.attributes["jimu.shop"] for r in requests} == {"panda-care"}
    assert all("jimu.request_id" not in s.attributes for s in found if s.name.startswith("GraphQL Query"))


class SeesSpan:
    seen: list[bool] = []

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        SeesSpan.seen.append(get_current_span().is_recording())
        tag_request("req-off")  # nothing to tag: must do nothing, and not fail
        await self.app(scope, receive, send)


async def test_tracing_off_installs_nothing_and_records_nothing(settings: Settings, demo: Adapters, db: Database):
    # given an app without tracing (no OTEL_* variables)
    assert Settings.from_env({"JIMU_ENV": "development"}).tracing is None and settings.tracing is None
    app = create_app(settings, demo)
    SeesSpan.seen = []
    app.user_middleware.append(Middleware(SeesSpan))

    # when requests go through, one of them twice (the fast path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jimu.test") as c:
        for _ in range(2):
            assert (await c.post("/graphql", json={"query": LISTING}, headers=KEY)).status_code == 200

    # then no request span, no operation extension, no SQL hooks, no traced plan runner
    assert SeesSpan.seen == [False, False]
    assert [m.cls for m in app.user_middleware[:2]] == [Observe, Edge]
    assert not any(m.cls is OpenTelemetryMiddleware for m in app.user_middleware)
    assert not any(getattr(e, "func", e) is OperationSpans for e in build_schema().extensions)
    engine = db.engine.sync_engine
    # (the one statement hook is the request record's counter, gateway.observe)
    assert len(engine.dispatch.before_cursor_execute) == 1 and not engine.dispatch.after_cursor_execute
    assert "driver_rows" not in vars(db) and db.traced is False
    view = next(r.endpoint for r in app.routes if getattr(r, "path", None) == "/graphql")
    assert view._run_plan is run_plan


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector: keeps what is POSTed to /v1/traces."""

    received: list[ExportTraceServiceRequest] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/traces" and self.headers["Content-Type"] == "application/x-protobuf":
            Collector.received.append(ExportTraceServiceRequest.FromString(body))
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_spans_are_sent_over_otlp_to_the_endpoint_the_environment_names(
    database_url: str, demo: Adapters, collector: str
):
    # given the standard variables naming a collector, read as the worker reads them
    settings = Settings.from_env({"JIMU_ENV": "development", "JIMU_DATABASE_URL": database_url, "JIMU_RESPONSE_CACHE_SECONDS": "0",
                                  "OTEL_EXPORTER_OTLP_ENDPOINT": collector, "OTEL_SERVICE_NAME": "jimu-test"})
    app = create_app(settings, demo)

    # when the worker serves a request and then stops (its lifespan's end sends what is batched)
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jimu.test") as c:
                assert (await c.post("/graphql", json={"query": LISTING}, headers=KEY)).status_code == 200
    finally:
        gc.unfreeze()  # the lifespan froze the collector's generations: give this process them back

    # then the collector has the trace, from the named service
    exported = [
        (resource.resource, span)
        for request in Collector.received for resource in request.resource_spans
        for scope in resource.scope_spans for span in scope.spans
    ]
    names = {span.name for _, span in exported}
    assert {"POST /graphql", "GraphQL Query: Listing"} <= names, names
    assert any(name.startswith("SELECT") for name in names), names
    services = {a.value.string_value for resource, _ in exported for a in resource.attributes if a.key == "service.name"}
    assert services == {"jimu-test"}
    assert len({span.trace_id for _, span in exported}) == 1, "the sweeper's statements start no trace"


async def test_no_span_holds_a_literal_or_a_query_string(traced: httpx.AsyncClient, spans: InMemorySpanExporter):
    # given a sign-in whose code is written in the document, and a GET whose variables are in the URL
    await traced.post("/graphql", json={"query": 'mutation { shopperLogin(code: "dev:secret-code-7") { token } }'},
                      headers=KEY)
    await traced.get("/graphql", params={"query": "query($h: String!) { product(handle: $h) { title } }",
                                         "variables": '{"h": "secret-handle-9"}'}, headers=KEY)
    # then no attribute of any span carries either
    told = [str(value) for span in spans.get_finished_spans() for value in (span.attributes or {}).values()]
    assert told and not [t for t in told if "secret-code-7" in t or "secret-handle-9" in t]
    assert 'shopperLogin(code: "")' in " ".join(told)
