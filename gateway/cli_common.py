"""What the ``jimu`` commands share: their settings, a migrated database, a shop by its handle,
and telling the running servers a shop changed."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console

from adapters.db import Database
from adapters.shops.port import ShopStore
from gateway.migrate import upgrade
from gateway.settings import Settings, SettingsError
from gateway.shared import shared_state
from gateway.wiring import Adapters

out = Console()
err = Console(stderr=True)
T = TypeVar("T")


def command_settings(*, serving: bool = False) -> Settings:
    """The settings from the environment; exit 2 naming what is wrong. Only a server needs
    to be told where it runs: the other commands work on the database they are given,
    wherever that is."""
    environ = os.environ if serving else {"JIMU_ENV": "development", **os.environ}
    try:
        return Settings.from_env(environ)
    except SettingsError as exc:
        err.print(f"[red]settings:[/red] {exc}")
        raise typer.Exit(2) from exc


def on_database(settings: Settings, act: Callable[[Database], Awaitable[T]]) -> T:
    """``act`` on the settings' database, migrated first, disposed of after."""
    async def run() -> T:
        db = Database(settings.database_url)
        try:
            await upgrade(db)
            return await act(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


async def shop_id_of(shops: ShopStore, handle: str) -> int:
    """The id of the shop with ``handle``; exit 1 when there is none."""
    [shop] = await shops.shops_by_handle([handle])
    if shop is None:
        err.print(f"[red]no shop {handle!r}[/red] (jimu shop create, or jimu import, makes one)")
        raise typer.Exit(1)
    return shop.id


async def tell_the_workers(settings: Settings, adapters: Adapters, handle: str) -> None:
    """Running servers drop what they hold of the shop: at once with Redis, else by age
    (JIMU_RESPONSE_CACHE_SECONDS and JIMU_REFERENCE_CACHE_SECONDS)."""
    if not settings.redis_url:
        return
    [shop] = await adapters.shops.shops_by_handle([handle])
    if shop is None:
        return
    shared = shared_state(settings.redis_url)
    try:
        await shared.invalidate(shop.id)
    finally:
        await shared.close()
