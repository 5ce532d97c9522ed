"""Traces: OpenTelemetry spans for the request, its GraphQL operation and the operation's SQL.

On when the deployment sets the standard ``OTEL_*`` variables (``Settings.tracing``); off,
nothing here is installed at all: no middleware, no schema extension, no SQL hooks. One trace::

    POST /graphql                      the request (outermost stage; jimu.request_id)
      GraphQL Query: <operation>       strawberry's extension, or the fast path's equal
        GraphQL Parsing, Validation    (strawberry's path only)
        SELECT <database>              each statement: its text, never its parameters

Resolvers get no span of their own: strawberry's would wrap every resolver (leaf fields too)
in an awaited middleware, the cost the fast path exists to avoid; the SQL spans say where the
time went. Spans go to their own tracer provider, passed to each instrumentation rather than
set as the global one, so two apps in one process (tests) never share one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from opentelemetry import context, trace
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk import trace as sdk
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import SpanKind, TracerProvider
from starlette.middleware import Middleware
from strawberry.extensions import LifecycleStep, SchemaExtension
from strawberry.extensions.tracing import OpenTelemetryExtension

from gateway.fastpath import Plan
from gateway.observe import Observed
from gateway.settings import Tracing

RunPlan = Callable[[Plan, Any, str, "dict[str, Any] | None"], Awaitable["dict[str, Any] | None"]]


def tracer_provider(tracing: Tracing) -> sdk.TracerProvider:
    """The provider of one worker process (the app factory runs once in each): spans batched,
    and sent from the processor's thread, to OTLP over HTTP and/or printed. (The exporter,
    its HTTP client and protobuf are imported here: a deployment without tracing never loads them.)"""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # The sampler OTEL_TRACES_SAMPLER names (the SDK reads it on making a provider), for requests only.
    sampler = RequestsOnly(sdk.TracerProvider(shutdown_on_exit=False).sampler)
    provider = sdk.TracerProvider(sampler=sampler, resource=Resource.create({SERVICE_NAME: tracing.service_name}))
    for name in tracing.exporters:
        if name == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        else:
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=tracing.endpoint)))
    return provider


class RequestsOnly(Sampler):
    """A trace starts at a request: a statement sent outside any (the sweeper's, every few
    seconds) starts none of its own. Within one, ``inner`` decides, as the SDK's would."""

    def __init__(self, inner: Sampler) -> None:
        self._inner = inner

    def should_sample(
        self, parent_context: context.Context | None, trace_id: int, name: str, kind: SpanKind | None = None,
        attributes: Any = None, links: Any = None, trace_state: Any = None,
    ) -> SamplingResult:
        if kind is not SpanKind.SERVER and not trace.get_current_span(parent_context).get_span_context().is_valid:
            return SamplingResult(Decision.DROP)
        return self._inner.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"RequestsOnly{{{self._inner.get_description()}}}"


async def shut_down(provider: sdk.TracerProvider) -> None:
    """What is still batched is sent before the worker goes (in a thread: it may wait on the collector)."""
    await asyncio.to_thread(provider.shutdown)


def request_stages(provider: TracerProvider | None) -> list[Middleware]:
    """The request span, as the outermost stage; none at all when tracing is off."""
    if provider is None:
        return []
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    # receive/send would each get a span of their own: three or more a request, telling nothing.
    return [Middleware(OpenTelemetryMiddleware, tracer_provider=provider, meter_provider=NoOpMeterProvider(),
                       exclude_spans=["receive", "send"], server_request_hook=_without_query_string)]


def _without_query_string(span: Any, scope: dict[str, Any]) -> None:
    """A GET request's query string holds its variables (a login code, say): the span keeps
    the path only."""
    if span.is_recording() and scope.get("query_string"):
        host = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), "")
        span.set_attribute("http.target", scope["path"])
        span.set_attribute("http.url", f"{scope.get('scheme', 'http')}://{host}{scope['path']}")


_STRING = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"')


def shown_document(query: str) -> str:
    """The document as a span shows it: string literals emptied (a login code written in the
    document, say), the rest as sent."""
    return _STRING.sub('""', query[:20_000])


def tag_request(request_id: str, shop: str | None = None) -> None:
    """Put the request's id (and shop) on the current span: call it from a stage inside the
    request span and before any other, where the current span is the request's. Nothing when
    tracing is off (the current span is then the invalid one, which records nothing)."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("jimu.request_id", request_id)
        if shop is not None:
            span.set_attribute("jimu.shop", shop)


def tag_observed(observed: Observed) -> None:
    """Told by gateway.observe as the answer starts: the request's id and shop on its span,
    which is current then and ends with the answer's last byte."""
    tag_request(observed.request_id, observed.shop)


class OperationSpans(OpenTelemetryExtension):
    """Strawberry's spans (operation, parsing, validation) without one per resolver, and with the
    operation's span current while it runs, so the SQL it sends is traced under it."""

    resolve = SchemaExtension.resolve  # strawberry adds no resolver middleware for the default

    def on_operation(self) -> Iterator[None]:
        with contextmanager(super().on_operation)():
            span = self._span_holder[LifecycleStep.OPERATION]
            if self.execution_context.query:  # strawberry's attribute, told without its literals
                span.set_attribute("query", shown_document(self.execution_context.query))
            token = context.attach(trace.set_span_in_context(span))
            try:
                yield
            finally:
                context.detach(token)


def schema_extensions(provider: TracerProvider | None) -> list[Any]:
    """The operation spans, for ``build_schema``; none at all when tracing is off."""
    return [] if provider is None else [partial(OperationSpans, tracer_provider=provider)]


def run_plan(plan: Plan, context_value: Any, query: str, variables: dict[str, Any] | None) -> Awaitable[dict[str, Any] | None]:
    return plan.run(context_value, variables)  # the plan's own coroutine: no frame of ours to await


def plan_runner(provider: TracerProvider | None) -> RunPlan:
    """How the view runs a plan: as it is, or inside the operation span strawberry's extension
    would have made (same name, kind and attributes), since a plan runs without strawberry."""
    if provider is None:
        return run_plan
    tracer = provider.get_tracer("strawberry")

    async def traced(plan: Plan, context_value: Any, query: str, variables: dict[str, Any] | None) -> dict[str, Any] | None:
        name = f"GraphQL Query: {plan.operation_name}" if plan.operation_name else "GraphQL Query"
        with tracer.start_as_current_span(name, kind=SpanKind.SERVER) as span:
            span.set_attribute("component", "graphql")
            span.set_attribute("query", shown_document(query))
            span.set_attribute("jimu.fast_path", True)
            data = await plan.run(context_value, variables)
            if data is None:  # the generic path answers instead, with an operation span of its own
                span.update_name(f"{name} (fast path fell back)")
                span.set_attribute("jimu.fast_path", False)
            return data

    return traced
