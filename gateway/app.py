"""The Starlette application factory."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
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
from adapters.payments.wechat import WechatPayProvider
from gateway.auth import KeyDirectory, ShopperTokens
from gateway.demo import demo_keys
from gateway.graphql import GraphQLView, build_schema
from gateway.limits import BodyLimit
from gateway.playground import STATIC_DIR, VENDOR_DIR, playground_page
from gateway.settings import Settings
from gateway.sweeper import Sweeper
from gateway.webhooks import sandbox_webhook, wechat_webhook
from gateway.wiring import Adapters, cashier_for, sql_adapters


def create_app(settings: Settings, adapters: Adapters | None = None) -> Starlette:
    """The app, wired to the given adapters (the SQL ones for ``settings`` by default)."""
    adapters = adapters if adapters is not None else sql_adapters(settings)
    publishable = {shop: keys["publishable"] for shop, keys in demo_keys().items()} if settings.demo else None
    cashier = cashier_for(adapters, settings)
    view = GraphQLView(
        settings,
        adapters,
        KeyDirectory(adapters.shops),
        ShopperTokens(settings.secret, settings.token_ttl_seconds),
        playground_page(publishable),
        cashier,
    )
    sdl = build_schema().as_str() + "\n"

    async def schema_graphql(_: Request) -> Response:
        return PlainTextResponse(sdl)

    async def healthz(_: Request) -> Response:
        if await adapters.ping():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable"}, status_code=503)

    async def home(_: Request) -> Response:
        return RedirectResponse("/graphql")

    sweeper = Sweeper(cashier, settings.sweep_interval_seconds)
    webhooks = []
    sandbox = cashier.providers.get(Method.SANDBOX)
    if isinstance(sandbox, SandboxProvider):
        webhooks.append(Route("/webhooks/payments/sandbox", sandbox_webhook(cashier, sandbox), methods=["POST"]))
    wechat = cashier.providers.get(Method.WECHAT_PAY)
    if isinstance(wechat, WechatPayProvider):
        webhooks.append(Route("/webhooks/payments/wechat", wechat_webhook(cashier, wechat), methods=["POST"]))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        sweeper.start()
        yield
        await sweeper.stop()
        await adapters.close()

    return Starlette(
        routes=[
            Route("/graphql", BodyLimit(view, settings.max_body_bytes)),
            Route("/schema.graphql", schema_graphql),
            Route("/healthz", healthz),
            *webhooks,
            Route("/", home),
            Mount("/playground/vendor", StaticFiles(directory=VENDOR_DIR)),
            Mount("/playground", StaticFiles(directory=STATIC_DIR)),
        ],
        lifespan=lifespan,
    )


def create_app_from_env() -> Starlette:
    """For uvicorn's ``--factory``: settings from this process's environment."""
    return create_app(Settings.from_env(os.environ))
