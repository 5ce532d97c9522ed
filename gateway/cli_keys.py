"""``jimu key`` and ``jimu shopper``: a shop's keys, and revoking a shopper's tokens.

Running servers are told of a revocation at once with Redis (``JIMU_REDIS_URL``); without
it each worker refuses the key or the tokens within ``JIMU_REVOCATION_SECONDS`` (2 s by
default, 5 at most).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from adapters.db import utcnow
from adapters.shops.port import KeyKind, KeyNotFound, ShopKey, ShopStore
from adapters.shops.rules import (
    hash_key,
    hint_of,
    is_last_active_secret,
    new_key,
    shown_hint,
)
from adapters.shops.sql import SqlShopStore
from gateway.cli_common import command_settings, err, on_database, out, shop_id_of
from gateway.settings import Settings
from gateway.shared import shared_state

key_app = typer.Typer(no_args_is_help=True, help="A shop's API keys: list, create, revoke.")
shopper_app = typer.Typer(no_args_is_help=True, help="A shop's shoppers.")
_ID = re.compile(r"^(?:gid://jimu/{kind}/)?([1-9][0-9]{{0,17}})$")
T = TypeVar("T")


def _id(value: str, kind: str, name: str) -> int:
    """A number, or the gid the API gives (``gid://jimu/ShopKey/12``); exit 2 for anything else."""
    match = re.fullmatch(_ID.pattern.format(kind=kind), value.strip())
    if match is None:
        err.print(f"[red]{name}:[/red] give the number or gid://jimu/{kind}/<n> (jimu key list SHOP shows them)")
        raise typer.Exit(2)
    return int(match.group(1))


def _run(settings: Settings, act: Callable[[ShopStore], Awaitable[T]]) -> T:
    return on_database(settings, lambda db: act(SqlShopStore(db)))


async def _tell_the_workers(settings: Settings, shop_id: int, shopper_id: int | None) -> None:
    if not settings.redis_url:
        out.print(f"running servers refuse it within {settings.revocation_seconds:g} s (JIMU_REVOCATION_SECONDS)")
        return
    shared = shared_state(settings.redis_url)
    try:
        await shared.revoked(shop_id, shopper_id)
    finally:
        await shared.close()
    out.print("running servers were told through Redis")


def _gid(key: ShopKey) -> str:
    return f"gid://jimu/ShopKey/{key.id}"


@key_app.command("list")
def key_list(shop: Annotated[str, typer.Argument(help="The shop's handle.")]) -> None:
    """The shop's keys, revoked ones too: id, kind, hint, created, revoked."""

    async def listed(shops: ShopStore) -> list[ShopKey]:
        return await shops.keys_of(await shop_id_of(shops, shop))

    keys = _run(command_settings(), listed)
    active = sum(k.active for k in keys)
    table = Table(title=f"{shop}: {len(keys)} key(s), {active} active")
    for column in ("id", "kind", "hint", "created", "revoked"):
        table.add_column(column, no_wrap=column in ("id", "kind", "hint"))
    for k in keys:
        revoked = f"[red]{k.revoked_at:%Y-%m-%d %H:%M}[/red]" if k.revoked_at else "[green]active[/green]"
        table.add_row(_gid(k), k.kind.value, shown_hint(k.kind, k.hint), f"{k.created_at:%Y-%m-%d %H:%M}", revoked)
    out.print(table)


@key_app.command("create")
def key_create(
    shop: Annotated[str, typer.Argument(help="The shop's handle.")],
    kind: Annotated[KeyKind, typer.Option("--kind", case_sensitive=False, help="publishable (pk_) or secret (sk_).")],
) -> None:
    """A new key for the shop, printed once: only its hash is kept."""
    key = new_key(kind)

    async def create(shops: ShopStore) -> ShopKey | None:
        return await shops.add_key(await shop_id_of(shops, shop), kind, hash_key(key), hint_of(key))

    made = _run(command_settings(), create)
    if made is None:
        err.print(f"[red]no shop {shop!r}[/red]")
        raise typer.Exit(1)
    out.print(f"{kind.value} key {_gid(made)} created for {shop}. Keep it now; it is not shown again.")
    out.print(key, soft_wrap=True)


@key_app.command("revoke")
def key_revoke(key_id: Annotated[str, typer.Argument(help="The key's id, as jimu key list shows it.")]) -> None:
    """Revoke a key: every worker refuses it within JIMU_REVOCATION_SECONDS (at once with Redis)."""
    number = _id(key_id, "ShopKey", "KEY_ID")
    settings = command_settings()

    async def revoke(shops: ShopStore) -> tuple[ShopKey, bool, bool]:
        [before] = await shops.keys_by_id([number])
        if before is None:
            raise KeyNotFound(number)
        last = is_last_active_secret(before, await shops.keys_of(before.shop_id))
        key = await shops.revoke_key(number, utcnow())
        if before.active:
            await _tell_the_workers(settings, key.shop_id, None)
        return key, before.active, last

    try:
        key, changed, last = _run(settings, revoke)
    except KeyNotFound as exc:
        err.print(f"[red]no key {key_id!r}[/red] (jimu key list SHOP shows a shop's keys)")
        raise typer.Exit(1) from exc
    assert key.revoked_at is not None
    if not changed:
        out.print(f"key {_gid(key)} ({shown_hint(key.kind, key.hint)}) was revoked already, at "
                  f"{key.revoked_at:%Y-%m-%d %H:%M:%S}")
        return
    out.print(f"key {_gid(key)} ({shown_hint(key.kind, key.hint)}) revoked")
    if last:
        err.print("[yellow]that was the shop's last active secret key:[/yellow] merchant operations need a new one "
                  "(jimu key create SHOP --kind secret)")


@shopper_app.command("revoke-tokens")
def shopper_revoke_tokens(
    shop: Annotated[str, typer.Argument(help="The shop's handle.")],
    shopper_id: Annotated[str, typer.Argument(help="The shopper's number or gid://jimu/Shopper/<n>.")],
) -> None:
    """Revoke every token the shopper holds: they sign in again."""
    number = _id(shopper_id, "Shopper", "SHOPPER_ID")
    settings = command_settings()

    async def revoke(shops: ShopStore) -> bool:
        shop_id = await shop_id_of(shops, shop)
        if await shops.revoke_tokens(shop_id, number) is None:
            return False
        await _tell_the_workers(settings, shop_id, number)
        return True

    if not _run(settings, revoke):
        err.print(f"[red]shop {shop} has no shopper {shopper_id!r}[/red]")
        raise typer.Exit(1)
    out.print(f"every token of shopper gid://jimu/Shopper/{number} in {shop} is revoked")
