"""The Starlette application factory."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from opentelemetry.trace import TracerProvider
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from adapters.payments.port import Method
from adapters.payments.sandbox import SandboxProvider
from adapters.shops.port import TrustedDocuments
from adapters.wechat_accounts.providers import ShopWechatPay
from gateway import tracing
from gateway.auth import KeyDirectory, ShopperTokens, TokenVersions
from gateway.budgets import buckets_for
from gateway.demo import demo_keys
from gateway.dispatching import Dispatching
from gateway.document_cache import DocumentTexts, TrustedLists
from gateway.documents import Documents
from gateway.edge import Edge, Guarded, graphql_refusal
from gateway.graphql import GraphQLView, build_schema
from gateway.logs import configure_logging
from gateway.metrics import METRICS_PATH, metrics_for
from gateway.metrics_guard import MetricsGuard, metrics_endpoint
from gateway.observe import Observe, log_request
from gateway.playground import STATIC_DIR, VENDOR_DIR, playground_page
from gateway.readiness import readiness
from gateway.reference import ReferenceCache
from gateway.response_cache import ResponseCache
from gateway.settings import Settings
from gateway.shared import shared_state
from gateway.sweeper import SWEEP_STOP_SECONDS, Forgetting, Sweeper
from gateway.webhooks import (
    MAX_NOTICE_BYTES,
    SANDBOX_PATH,
    SHOP_WECHAT_PATH,
    WECHAT_PATH,
    refuse_sandbox,
    refuse_wechat,
    sandbox_webhook,
    shop_wechat_webhook,
    wechat_webhook,
)
from gateway.wiring import Adapters, cashier_for, dispatcher_for, sql_adapters


def create_app(
    settings: Settings, adapters: Adapters | None = None, *, tracer_provider: TracerProvider | None = None
) -> Starlette:
    """The app, wired to the given adapters (the SQL ones for ``settings`` by default); traced
    to ``tracer_provider`` if given, else to one of this worker's own when ``settings.tracing``."""
    adapters = adapters if adapters is not None else sql_adapters(settings)
    own = tracing.tracer_provider(settings.tracing) if tracer_provider is None and settings.tracing else None
    tracer_provider = tracer_provider if tracer_provider is not None else own
    if tracer_provider is not None:
        for database in adapters.databases:
            database.trace(tracer_provider)
    publishable = {shop: keys["publishable"] for shop, keys in demo_keys().items()} if settings.demo else None
    metrics = metrics_for(os.environ)  # prometheus_client itself reads the environment (gateway.metrics)
    cashier = cashier_for(adapters, settings, (metrics.on_settled,))
    keys = KeyDirectory(adapters.shops, settings.revocation_seconds)
    versions = TokenVersions(adapters.shops, settings.revocation_seconds)
    shared = shared_state(settings.redis_url)
    shared.on_revoked(keys.revoked)
    shared.on_revoked(versions.revoked)
    reference = ReferenceCache(settings.reference_cache_seconds)
    shared.subscribe(reference.drop)
    buckets = buckets_for(settings.redis_url)
    view = GraphQLView(
        settings,
        adapters,
        keys,
        ShopperTokens(settings.secret, settings.token_ttl_seconds, versions),
        playground_page(publishable),
        cashier,
        reference,
        shared.invalidate,
        buckets,
        tracer_provider,
        shared.revoked,
    )
    sdl = build_schema().as_str() + "\n"

    async def schema_graphql(_: Request) -> Response:
        return PlainTextResponse(sdl)

    async def healthz(_: Request) -> Response:
        if await adapters.ping():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable"}, status_code=503)

    async def readyz(_: Request) -> Response:
        checks = await readiness(adapters, shared, settings.redis_url is not None)
        ready = all(check == "ok" for check in checks.values())
        return JSONResponse({"status": "ready" if ready else "unavailable", "checks": checks},
                            status_code=200 if ready else 503, headers={"cache-control": "no-store"})

    async def home(_: Request) -> Response:
        return RedirectResponse("/graphql")

    sweeper = Sweeper(cashier, settings.sweep_interval_seconds, (metrics.on_swept,),
                      Forgetting(adapters.documents, timedelta(days=settings.apq_retention_days),
                                 settings.apq_max_documents))
    dispatcher, sender = dispatcher_for(adapters, settings)
    dispatching = Dispatching(dispatcher, adapters.webhooks, settings.webhooks.poll_seconds,
                              timedelta(days=settings.webhooks.retention_days), (metrics.on_dispatched,))
    webhooks = []
    sandbox = cashier.providers.get(Method.SANDBOX)
    if isinstance(sandbox, SandboxProvider):
        webhooks.append(Route(SANDBOX_PATH, sandbox_webhook(cashier, sandbox), methods=["POST"]))
    wechat = cashier.providers.get(Method.WECHAT_PAY)
    if isinstance(wechat, ShopWechatPay):
        if wechat.default is not None:  # the deployment's merchant
            webhooks.append(Route(WECHAT_PATH, wechat_webhook(cashier, wechat.default), methods=["POST"]))
        webhooks.append(Route(SHOP_WECHAT_PATH, shop_wechat_webhook(cashier, wechat, adapters.shops), methods=["POST"]))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        sweeper.start()
        dispatching.start()
        metrics.started()
        # The schema, the app and the imports are here for good: keep the collector from
        # walking them again every time a request's objects trigger a full collection.
        gc.collect()
        gc.freeze()
        yield
        # uvicorn has stopped taking requests and finished those in flight (its grace); a sweep
        # under way is a few statements, given at most SWEEP_STOP_SECONDS more.
        await sweeper.stop(min(SWEEP_STOP_SECONDS, settings.shutdown_grace_seconds))
        await dispatching.stop(min(SWEEP_STOP_SECONDS, settings.shutdown_grace_seconds))
        await sender.aclose()
        metrics.stopped()
        await shared.close()
        await buckets.close()
        await adapters.close()
        if own is not None:
            await tracing.shut_down(own)  # what is still batched is sent before the worker goes

    return Starlette(
        # The stages before the router, in the order a request meets them.
        middleware=[
            *tracing.request_stages(tracer_provider),
            Middleware(Observe, listeners=(log_request, metrics.observe),
                       answering=[tracing.tag_observed] if tracer_provider else []),
            Middleware(Edge, routes={
                "/graphql": Guarded(settings.max_body_bytes, graphql=True,
                                    refusal=lambda r: graphql_refusal(r, settings.answer_extensions)),
                SANDBOX_PATH: Guarded(MAX_NOTICE_BYTES, refusal=lambda r: refuse_sandbox(r.status, r.message)),
                WECHAT_PATH: Guarded(MAX_NOTICE_BYTES, refusal=lambda r: refuse_wechat(r.status, r.message)),
            }),
            Middleware(Documents, texts=DocumentTexts(adapters.documents), keys=keys,
                       trusted=TrustedLists(adapters.documents, reference), schema=build_schema(federation=settings.federation)._schema,
                       default_policy=TrustedDocuments(settings.trusted_documents), production=settings.production),
            Middleware(ResponseCache, keys=keys, shared=shared, ttl_seconds=settings.response_cache_seconds,
                       max_bytes=settings.response_cache_bytes, budgeted_clients=settings.client_budget is not None),
        ],
        routes=[
            Route("/graphql", view),
            Route("/schema.graphql", schema_graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route(METRICS_PATH, metrics_endpoint(metrics, MetricsGuard.of(settings)), methods=["GET"]),
            *webhooks,
            Route("/", home),
            Mount("/playground/vendor", StaticFiles(directory=VENDOR_DIR)),
            Mount("/playground", StaticFiles(directory=STATIC_DIR)),
        ],
        lifespan=lifespan,
    )


def create_app_from_env() -> Starlette:
    """For uvicorn's ``--factory``: settings from this process's environment (each worker
    is a process of its own, so its logging is set up here too)."""
    settings = Settings.from_env(os.environ)
    configure_logging(settings.log_format, settings.log_level)
    return create_app(settings)
