"""``jimu documents``: a shop's trusted documents (persisted queries)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from adapters.db import Database
from adapters.documents.port import IdTaken
from gateway.cli_common import command_settings, err, out, tell_the_workers
from gateway.document_check import ManifestRefused, read_manifest
from gateway.graphql import build_schema
from gateway.migrate import upgrade
from gateway.wiring import Adapters, sql_adapters

documents_app = typer.Typer(no_args_is_help=True, help="A shop's trusted documents (persisted queries).")


@documents_app.command("push")
def documents_push(
    shop: Annotated[str, typer.Argument(help="The shop's handle.")],
    file: Annotated[Path, typer.Argument(help="Apollo's persisted-query manifest, or Relay's {id: document} map.")],
) -> None:
    """Trust a manifest's documents for the shop: each checked against the served schema, all or nothing."""
    try:
        documents = read_manifest(build_schema()._schema, file)
    except ManifestRefused as exc:
        table = Table(title=f"Nothing was trusted: {len(exc.problems)} problem(s)")
        table.add_column("entry", no_wrap=True)
        table.add_column("reason")
        for row in exc.problems:
            table.add_row(*row)
        err.print(table)
        raise typer.Exit(1) from exc

    async def push(adapters: Adapters, shop_id: int) -> None:
        report = await adapters.documents.trust(shop_id, documents)
        out.print(f"shop {shop}: {report.added} document(s) trusted, {report.unchanged} trusted already")

    try:
        _with_shop(shop, push)
    except IdTaken as exc:
        err.print(f"[red]nothing was trusted:[/red] {exc} (jimu documents remove {shop} ID, then push again)")
        raise typer.Exit(1) from exc


@documents_app.command("list")
def documents_list(shop: Annotated[str, typer.Argument(help="The shop's handle.")]) -> None:
    """The shop's trusted documents: id, operation name, SHA-256 and size."""

    async def show(adapters: Adapters, shop_id: int) -> None:
        documents = await adapters.documents.trusted(shop_id)
        table = Table(title=f"{shop}: {len(documents)} trusted document(s)")
        for column in ("id", "operation", "sha256"):
            table.add_column(column, overflow="fold")
        table.add_column("characters", justify="right")
        for d in documents:
            table.add_row(d.id, d.operation_name or "", d.sha256, str(d.size))
        out.print(table)

    _with_shop(shop, show, changes=False)


@documents_app.command("remove")
def documents_remove(
    shop: Annotated[str, typer.Argument(help="The shop's handle.")],
    ids: Annotated[list[str] | None, typer.Argument(help="Document ids to stop trusting.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Stop trusting every document of the shop.")] = False,
) -> None:
    """Stop trusting documents; running servers follow within JIMU_REFERENCE_CACHE_SECONDS (at once with Redis)."""
    if bool(ids) == every:
        err.print("[red]remove:[/red] name the ids to remove, or give --all")
        raise typer.Exit(2)

    async def remove(adapters: Adapters, shop_id: int) -> None:
        gone = await adapters.documents.distrust(shop_id, None if every else ids)
        out.print(f"shop {shop}: {gone} document(s) no longer trusted")
        missing = len(set(ids or ())) - gone if not every else 0
        if missing:
            err.print(f"{missing} of the ids were not trusted (jimu documents list {shop})")

    _with_shop(shop, remove)


def _with_shop(handle: str, act: Callable[[Adapters, int], Awaitable[None]], *, changes: bool = True) -> None:
    """Run ``act`` on the shop named by ``handle`` (exit 1 when there is none); when it
    ``changes`` the trusted list, tell the running servers."""
    settings = command_settings()

    async def run() -> bool:
        db = Database(settings.database_url)
        try:
            await upgrade(db)
            adapters = sql_adapters(settings, db)
            [found] = await adapters.shops.shops_by_handle([handle])
            if found is None:
                return False
            await act(adapters, found.id)
            if changes:
                await tell_the_workers(settings, adapters, handle)
            return True
        finally:
            await db.dispose()

    if not asyncio.run(run()):
        err.print(f"[red]no shop {handle!r}[/red] (jimu shop create, or jimu import, makes one)")
        raise typer.Exit(1)
