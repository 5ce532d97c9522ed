"""The ``jimu`` command line."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.progress import Progress
from rich.table import Table

from adapters.catalog.entries import CatalogFile
from adapters.catalog.port import ImportReport, StockMode
from adapters.db import Database
from adapters.shops.port import KeyKind, Shop, ShopExists, TrustedDocuments
from adapters.shops.rules import HANDLE_PATTERN, hash_key, hint_of, new_key
from adapters.shops.sql import SqlShopStore
from gateway.catalog_import import (
    ImportFailed,
    import_catalog,
    read_catalog,
    stock_summary,
)
from gateway.cli_common import command_settings, err, on_database, out, tell_the_workers
from gateway.cli_documents import documents_app
from gateway.cli_keys import key_app, shopper_app
from gateway.cli_remote import remote_app
from gateway.cli_secrets import refuse_unsealable, secrets_app, wechat_app
from gateway.demo import demo_files, demo_keys
from gateway.graphql import build_schema
from gateway.logs import configure_logging
from gateway.metrics_dir import multiprocess_dir
from gateway.migrate import upgrade
from gateway.remote_demo import merchant_process, point_demo_at
from gateway.settings import Settings, SettingsError
from gateway.wiring import sql_adapters

app = typer.Typer(no_args_is_help=True, help="jimu: a GraphQL commerce gateway.", add_completion=False)
shop_app = typer.Typer(no_args_is_help=True, help="Shops and their keys.")
app.add_typer(shop_app, name="shop")
app.add_typer(documents_app, name="documents")
shop_app.add_typer(wechat_app, name="wechat")
shop_app.add_typer(remote_app, name="remote")
app.add_typer(secrets_app, name="secrets")
app.add_typer(key_app, name="key")
app.add_typer(shopper_app, name="shopper")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo shops and preload the playground.")] = False,
    access_log: Annotated[bool, typer.Option("--access-log", help="Print uvicorn's line for every request.")] = False,
    remote_demo: Annotated[bool, typer.Option(
        "--remote-demo", help="With --demo: Aurelian's stock from the reference merchant system, started beside "
                              "the server (docs/remote-adapters.md).")] = False,
) -> None:
    """Migrate the database, then serve the gateway."""
    if remote_demo and not demo:
        err.print("[red]--remote-demo[/red] goes with --demo")
        raise typer.Exit(2)
    with merchant_process() if remote_demo else nullcontext() as merchant:
        _serve(host, port, workers, demo, access_log, merchant)


def _serve(host: str, port: int, workers: int, demo: bool, access_log: bool, merchant: tuple[str, str] | None) -> None:
    import uvicorn

    if demo:
        os.environ["JIMU_DEMO"] = "1"  # the workers read their settings from the environment
    settings = command_settings(serving=True)
    configure_logging(settings.log_format, settings.log_level)
    try:
        asyncio.run(_prepare(settings, demo, merchant))
    except SettingsError as exc:
        err.print(f"[red]settings:[/red] {exc}")
        raise typer.Exit(2) from exc
    if demo:
        _print_demo(host, port)
    if not settings.production:
        _warn_of_development(settings.log_format)
    # uvicorn's access line ("POST /graphql 200") says nothing a GraphQL operator can use and
    # costs a write per request, a seventh of a cached answer's CPU: off unless asked for.
    # uvicorn would believe X-Forwarded-For from any local peer; whose address a request is
    # is the gateway's to decide (JIMU_TRUSTED_PROXIES), so the peer is left as it is.
    # Logging is the app's (gateway.logs, set up again in each worker): uvicorn's lines go
    # through the same handler. On SIGTERM requests in flight get the grace to finish. A
    # worker's start (imports, the schema) takes several seconds on a busy host: past uvicorn's
    # 5 s health check the supervisor would kill it and start another, over and over. The
    # workers' metrics are added up from files in one directory (gateway.metrics_dir).
    with multiprocess_dir(os.environ):
        uvicorn.run("gateway.app:create_app_from_env", factory=True, host=host, port=port, workers=workers,
                    access_log=access_log, proxy_headers=False, log_config=None,
                    timeout_graceful_shutdown=max(1, round(settings.shutdown_grace_seconds)),
                    timeout_worker_healthcheck=30)


async def _prepare(settings: Settings, demo: bool, merchant: tuple[str, str] | None = None) -> None:
    db = Database(settings.database_url)
    try:
        await upgrade(db)
        await refuse_unsealable(settings, db)
        if demo:
            store = sql_adapters(settings, db).catalog
            for path in demo_files():
                await import_catalog(store, path, read_catalog(path))
            await point_demo_at(settings, db, merchant)
    finally:
        await db.dispose()


DEVELOPMENT_WARNING = (
    "Anyone can sign in as any shopper with a dev:<anything> code, mark orders paid with the sandbox's "
    'public secret, and read unmasked errors. Every GraphQL answer says "mode": "development" in its '
    'extensions. For real shoppers set JIMU_ENV=production (README, "Deploying").'
)


def _warn_of_development(log_format: str) -> None:
    """A banner for a person at a terminal; a log line where the log is read by machines."""
    if log_format == "json":
        logging.getLogger("jimu").warning("DEVELOPMENT MODE, not for real shoppers: %s", DEVELOPMENT_WARNING)
        return
    err.print(Panel(DEVELOPMENT_WARNING, title="DEVELOPMENT MODE: not for real shoppers", border_style="bold red"))


def _print_demo(host: str, port: int) -> None:
    table = Table(title="Demo shops")
    for column in ("shop", "publishable (storefront)", "secret (merchant)"):
        table.add_column(column)
    for handle, keys in demo_keys().items():
        table.add_row(handle, keys.get("publishable", ""), keys.get("secret", ""))
    out.print(table)
    out.print(f"Playground: [bold]http://{host}:{port}/graphql[/bold]  (send a key as X-Jimu-Key)")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A jimu.catalog/1 JSON file.")],
    stock: Annotated[StockMode, typer.Option(
        "--stock", case_sensitive=False,
        help="Stock rows that exist already: keep them (a re-import never undoes a sale), "
             "set on hand to the file's figures, or add the figures (goods received).",
    )] = StockMode.KEEP,
) -> None:
    """Load a catalog file: upsert by handle and code, all or nothing."""
    settings = command_settings()
    try:
        catalog = read_catalog(file)
        report = asyncio.run(_import(settings, file, catalog, stock))
    except ImportFailed as exc:
        table = Table(title=f"Nothing was imported: {len(exc.problems)} problem(s)")
        table.add_column("file", no_wrap=True)
        table.add_column("path", no_wrap=True)  # whole, so it can be searched for in the file
        table.add_column("reason")
        for row in exc.problems:
            table.add_row(*row)
        err.print(table)
        raise typer.Exit(1) from exc
    _print_report(report)


async def _import(settings: Settings, path: Path, catalog: CatalogFile, stock: StockMode) -> ImportReport:
    db = Database(settings.database_url)
    try:
        await upgrade(db)
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task(f"importing {catalog.shop.handle}", total=len(catalog.products))
            adapters = sql_adapters(settings, db)
            remote = next((r for r in await adapters.remotes.remotes() if r.shop_handle == catalog.shop.handle), None)
            report = await import_catalog(adapters.catalog, path, catalog, lambda: progress.advance(task), stock,
                                          remote)
        if report.changed:
            await tell_the_workers(settings, adapters, report.shop_handle)
        return report
    finally:
        await db.dispose()


def _print_report(report: ImportReport) -> None:
    table = Table(title=f"Imported {report.shop_handle}" + ("" if report.changed else " (nothing changed)"))
    for column in ("rows", "created", "updated", "unchanged"):
        table.add_column(column)
    for kind, counts in report.counts.items():
        table.add_row(kind, str(counts["created"]), str(counts["updated"]), str(counts["unchanged"]))
    out.print(table)
    out.print(stock_summary(report.stock))


@shop_app.command("create")
def shop_create(
    handle: Annotated[str, typer.Argument(help="Lowercase letters, digits and dashes.")],
    name: Annotated[str, typer.Option("--name", help="The shop's display name.")],
) -> None:
    """Create a shop and print its key pair (shown once: only hashes are stored)."""
    if not HANDLE_PATTERN.fullmatch(handle):
        err.print("[red]handle:[/red] use 1-63 lowercase letters, digits and dashes, starting with a letter or digit")
        raise typer.Exit(2)
    if not name.strip() or len(name) > 200:
        err.print("[red]--name:[/red] give 1 to 200 characters")
        raise typer.Exit(2)
    keys = {kind: new_key(kind) for kind in KeyKind}
    try:
        on_database(command_settings(), lambda db: _create_shop(db, handle, name.strip(), keys))
    except ShopExists as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    out.print(f"shop {handle} created. Keep these keys now; they are not shown again.")
    out.print(f"publishable: {keys[KeyKind.PUBLISHABLE]}")
    out.print(f"secret:      {keys[KeyKind.SECRET]}")


async def _create_shop(db: Database, handle: str, name: str, keys: dict[KeyKind, str]) -> None:
    await SqlShopStore(db).create_shop(handle, name, {kind: hash_key(key) for kind, key in keys.items()},
                                       {kind: hint_of(key) for kind, key in keys.items()})


@shop_app.command("policy")
def shop_policy(
    handle: Annotated[str, typer.Argument(help="The shop's handle.")],
    trusted_documents: Annotated[str | None, typer.Option(
        "--trusted-documents", help="off, audit or require for the publishable key; default: the deployment's.")] = None,
    budget: Annotated[str | None, typer.Option(
        "--budget", help="A secret key's bucket as POINTS/RESTORED-PER-SECOND (whole numbers), or default.")] = None,
) -> None:
    """Show a shop's policy at the edge, changing what the options say (the rest is kept)."""
    modes = {"default": None, **{mode.value: mode for mode in TrustedDocuments}}
    if trusted_documents is not None and trusted_documents not in modes:
        err.print("[red]--trusted-documents:[/red] give off, audit, require or default")
        raise typer.Exit(2)
    points = restore = None
    if budget is not None and budget != "default":
        size, _, rate = budget.partition("/")
        if not (size.isdigit() and rate.isdigit() and int(size) >= 1 and 1 <= int(rate) <= 1_000_000):
            err.print("[red]--budget:[/red] give POINTS/RESTORED-PER-SECOND, e.g. 2000/200, or default")
            raise typer.Exit(2)
        points, restore = int(size), int(rate)
    found = asyncio.run(_shop_policy(command_settings(), handle, trusted_documents, modes, budget, points, restore))
    if found is None:
        err.print(f"[red]no shop {handle!r}[/red]")
        raise typer.Exit(1)
    policy, settings = found.policy, command_settings()
    documents = policy.trusted_documents.value if policy.trusted_documents else f"{settings.trusted_documents} (the deployment's)"
    rate = (f"{policy.budget_points}/{policy.budget_restore}" if policy.budget_points is not None else
            f"{settings.secret_key_budget.points}/{settings.secret_key_budget.per_second:g} (the deployment's)")
    out.print(f"{handle}: trusted documents {documents}; a secret key's budget {rate} points")


async def _shop_policy(
    settings: Settings, handle: str, documents: str | None, modes: dict[str, TrustedDocuments | None],
    budget: str | None, points: int | None, restore: int | None,
) -> Shop | None:
    db = Database(settings.database_url)
    try:
        await upgrade(db)
        shops = sql_adapters(settings, db).shops
        [shop] = await shops.shops_by_handle([handle])
        if shop is None:
            return None
        policy = shop.policy
        if documents is not None:
            policy = replace(policy, trusted_documents=modes[documents])
        if budget is not None:
            policy = replace(policy, budget_points=points, budget_restore=restore)
        if policy == shop.policy:
            return shop
        return await shops.set_policy(shop.id, policy)
    finally:
        await db.dispose()


@app.command("export-schema")
def export_schema(
    federation: bool = typer.Option(False, "--federation", help="The Apollo Federation v2 subgraph SDL (@key, @link)."),
) -> None:
    """Print the GraphQL schema (SDL)."""
    sys.stdout.write(build_schema(federation=federation).as_str() + "\n")


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    async def nothing_more(_: Database) -> None:
        return None

    on_database(command_settings(), nothing_more)  # which migrates first
    out.print("database is up to date")
