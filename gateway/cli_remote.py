"""``jimu shop remote``: a shop's goods or stock served by its own systems (docs/remote-adapters.md)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

import typer

from adapters.db import Database
from adapters.shop_remotes.port import ShopRemote
from adapters.shop_remotes.sql import SqlShopRemotes
from adapters.shops.sql import SqlShopStore
from adapters.wechat_accounts.port import SecretKeyMissing
from gateway.cli_common import command_settings, err, on_database, out, shop_id_of
from gateway.wiring import remote_secrets

remote_app = typer.Typer(no_args_is_help=True, help="A shop's goods or stock served by its own systems.")


def url_problem(url: str, production: bool) -> str | None:
    """Why ``url`` cannot be a base URL of a merchant's system, or None. In production it is
    https: the calls are signed, not secret, and carry shoppers' orders."""
    parts = urlsplit(url)
    if production and (parts.scheme != "https" or not parts.hostname):
        return "give an https:// URL with a host (http:// is for development only)"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "give an http:// or https:// URL with a host"
    if parts.query or parts.fragment:
        return "give a base URL without a query or fragment: jimu adds the contract's paths to it"
    return None


@remote_app.command("set")
def remote_set(
    shop: Annotated[str, typer.Argument(help="The shop's handle.")],
    secret: Annotated[str, typer.Option(help="The secret calls are signed with (HMAC-SHA256), shared with the "
                                             "merchant's system.")],
    goods: Annotated[str | None, typer.Option(help="Base URL of the merchant's goods (leave out: jimu's own).")] = None,
    inventory: Annotated[str | None, typer.Option(help="Base URL of the merchant's stock (leave out: jimu's own).")] = None,
) -> None:
    """Serve the shop's goods and/or stock from its own systems; every worker follows within seconds."""
    if goods is None and inventory is None:
        err.print("[red]give --goods, --inventory or both[/red] (jimu shop remote clear serves the shop from jimu again)")
        raise typer.Exit(2)
    settings = command_settings()
    for option, url in (("--goods", goods), ("--inventory", inventory)):
        if url is not None and (problem := url_problem(url, settings.production)):
            err.print(f"[red]{option}:[/red] {problem}")
            raise typer.Exit(2)
    if len(secret) < 16:
        err.print("[red]--secret:[/red] give at least 16 characters")
        raise typer.Exit(2)
    try:
        sealed = remote_secrets(settings).seal(secret)
    except SecretKeyMissing as exc:
        err.print(f"[red]JIMU_SECRET_KEY:[/red] {exc}")
        raise typer.Exit(2) from exc

    async def put(db: Database) -> ShopRemote:
        shop_id = await shop_id_of(SqlShopStore(db), shop)
        return await SqlShopRemotes(db).put(shop_id, goods, inventory, sealed)

    stored = on_database(settings, put)
    out.print(f"shop {shop}: goods from {stored.goods_url or 'jimu'}, stock from {stored.inventory_url or 'jimu'} "
              f"(secret sealed), version {stored.version}")


@remote_app.command("show")
def remote_show(shop: Annotated[str, typer.Argument(help="The shop's handle.")]) -> None:
    """Where the shop's goods and stock come from."""

    async def load(db: Database) -> ShopRemote | None:
        shop_id = await shop_id_of(SqlShopStore(db), shop)
        return next((r for r in await SqlShopRemotes(db).remotes() if r.shop_id == shop_id), None)

    found = on_database(command_settings(), load)
    if found is None:
        out.print(f"shop {shop}: goods and stock from jimu's database")
        return
    out.print(f"shop {shop}: goods from {found.goods_url or 'jimu'}, stock from {found.inventory_url or 'jimu'}, "
              f"version {found.version}")


@remote_app.command("clear")
def remote_clear(shop: Annotated[str, typer.Argument(help="The shop's handle.")]) -> None:
    """Serve the shop's goods and stock from jimu's database again."""

    async def clear(db: Database) -> bool:
        return await SqlShopRemotes(db).clear(await shop_id_of(SqlShopStore(db), shop))

    cleared = on_database(command_settings(), clear)
    out.print(f"shop {shop}: " + ("served from jimu's database again" if cleared else "had no remotes"))
