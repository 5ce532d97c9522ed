"""``jimu shop wechat`` (a shop's own WeChat credentials) and ``jimu secrets`` (JIMU_SECRET_KEY)."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from adapters.db import Database
from adapters.shop_remotes.sql import SqlShopRemotes
from adapters.shops.sql import SqlShopStore
from adapters.webhooks.secrets_at_rest import SubscriptionSecrets
from adapters.webhooks.sql import SqlWebhooks
from adapters.wechat_accounts.port import (
    DirectMerchant,
    MiniProgram,
    SealedAccount,
    SecretKeyMissing,
    SecretUnreadable,
    SubMerchant,
    WechatAccount,
    WechatAccounts,
)
from adapters.wechat_accounts.rules import open_sealed, problems, seal
from adapters.wechat_accounts.secret_box import SecretBox, new_key
from adapters.wechat_accounts.sql import SqlWechatAccounts
from gateway.cli_common import command_settings, err, on_database, out, shop_id_of
from gateway.settings import Settings, SettingsError

wechat_app = typer.Typer(no_args_is_help=True, help="A shop's own WeChat mini-program and WeChat Pay merchant.")
secrets_app = typer.Typer(no_args_is_help=True, help="The keys that seal stored secrets (JIMU_SECRET_KEY).")
T = TypeVar("T")


def _run(settings: Settings, act: Callable[[Database, WechatAccounts], Awaitable[T]]) -> T:
    return on_database(settings, lambda db: act(db, SqlWechatAccounts(db)))


async def _shop_id(db: Database, handle: str) -> int:
    return await shop_id_of(SqlShopStore(db), handle)


def _secret(option: str, value: str | None, file: Path | None) -> bytes | None:
    if value is not None and file is not None:
        err.print(f"[red]{option}:[/red] give the value or its file, not both")
        raise typer.Exit(2)
    if file is None:
        return value.encode() if value is not None else None
    try:
        return file.read_bytes().strip() if not file.name.endswith(".pem") else file.read_bytes()
    except OSError as exc:
        err.print(f"[red]{option}-file:[/red] cannot read {file}: {exc.strerror}")
        raise typer.Exit(2) from exc


@wechat_app.command("set")
def wechat_set(
    shop: Annotated[str, typer.Argument(help="The shop's handle.")],
    app_id: Annotated[str | None, typer.Option("--app-id", help="The mini-program's app id.")] = None,
    app_secret: Annotated[str | None, typer.Option("--app-secret", help="Its app secret (prefer --app-secret-file).")] = None,
    app_secret_file: Annotated[Path | None, typer.Option("--app-secret-file", help="A file holding the app secret.")] = None,
    mch_id: Annotated[str | None, typer.Option("--mch-id", help="The shop's own WeChat Pay merchant id.")] = None,
    serial_no: Annotated[str | None, typer.Option("--serial-no", help="Its merchant certificate's serial number.")] = None,
    private_key_file: Annotated[Path | None, typer.Option("--private-key-file", help="Its merchant private key (PEM).")] = None,
    platform_key_file: Annotated[Path | None, typer.Option("--platform-key-file", help="WeChat Pay's platform public key (PEM).")] = None,
    api_v3_key_file: Annotated[Path | None, typer.Option("--api-v3-key-file", help="A file holding its 32-byte APIv3 key.")] = None,
    sub_mch_id: Annotated[str | None, typer.Option("--sub-mch-id", help="Or: a sub-merchant id under the deployment's service provider.")] = None,
    sub_app_id: Annotated[str | None, typer.Option("--sub-app-id", help="The sub-merchant's app id (default: --app-id).")] = None,
) -> None:
    """Set the shop's mini-program, its merchant, or both; what is not given is kept. Secrets are sealed."""
    settings = command_settings()
    secret = _secret("--app-secret", app_secret, app_secret_file)
    merchant_options = {"--mch-id": mch_id, "--serial-no": serial_no, "--private-key-file": private_key_file,
                        "--platform-key-file": platform_key_file, "--api-v3-key-file": api_v3_key_file}
    given = [name for name, value in merchant_options.items() if value is not None]
    if (app_id is None) != (secret is None):
        err.print("[red]--app-id:[/red] the app id and its secret go together")
        raise typer.Exit(2)
    if given and len(given) != len(merchant_options):
        missing = ", ".join(name for name in merchant_options if name not in given)
        err.print(f"[red]merchant:[/red] a merchant of the shop's own also needs {missing}")
        raise typer.Exit(2)
    if given and sub_mch_id is not None:
        err.print("[red]--sub-mch-id:[/red] a shop has its own merchant or is a sub-merchant, not both")
        raise typer.Exit(2)
    if sub_app_id is not None and sub_mch_id is None:
        err.print("[red]--sub-app-id:[/red] goes with --sub-mch-id")
        raise typer.Exit(2)
    if app_id is None and not given and sub_mch_id is None:
        err.print("[red]set:[/red] give --app-id and --app-secret[-file], a merchant (--mch-id ...), or --sub-mch-id")
        raise typer.Exit(2)
    app = MiniProgram(app_id, secret.decode(errors="replace")) if app_id is not None and secret is not None else None
    merchant: DirectMerchant | SubMerchant | None = None
    if given:
        merchant = DirectMerchant(
            mch_id or "", serial_no or "",
            _secret("--private-key", None, private_key_file) or b"",
            _secret("--platform-key", None, platform_key_file) or b"",
            _secret("--api-v3-key", None, api_v3_key_file) or b"",
        )
    elif sub_mch_id is not None:
        merchant = SubMerchant(sub_mch_id, sub_app_id)
    box = SecretBox(settings.secret_keys)

    async def save(db: Database, accounts: WechatAccounts) -> SealedAccount:
        shop_id = await _shop_id(db, shop)
        [before] = await accounts.accounts_of([shop_id])
        try:
            current = open_sealed(before, box) if before else WechatAccount(shop_id)
        except SecretUnreadable as exc:
            if app is None or merchant is None:  # what is kept must be opened to be sealed again
                err.print(f"[red]stored secrets:[/red] {exc}; set both the app and the merchant, or clear first")
                raise typer.Exit(1) from exc
            current = WechatAccount(shop_id)
        account = WechatAccount(shop_id, app or current.app, merchant or current.merchant)
        wrong = problems(account)
        if wrong:
            for field, reason in wrong:
                err.print(f"[red]{field}:[/red] {reason}")
            raise typer.Exit(2)
        return await accounts.put(seal(account, box))

    try:
        stored = _run(settings, save)
    except SecretKeyMissing as exc:
        err.print(f"[red]JIMU_SECRET_KEY:[/red] {exc}")
        raise typer.Exit(2) from exc
    out.print(f"shop {shop}: WeChat credentials stored (sealed), version {stored.version}")
    _print(stored, box)


@wechat_app.command("show")
def wechat_show(shop: Annotated[str, typer.Argument(help="The shop's handle.")]) -> None:
    """The shop's WeChat, secrets masked; exit 1 when a stored secret cannot be opened with JIMU_SECRET_KEY."""
    settings = command_settings()

    async def load(db: Database, accounts: WechatAccounts) -> SealedAccount | None:
        [found] = await accounts.accounts_of([await _shop_id(db, shop)])
        return found

    found = _run(settings, load)
    if found is None:
        out.print(f"shop {shop}: no WeChat of its own; it uses the deployment's (JIMU_WECHAT_*)")
        return
    if not _print(found, SecretBox(settings.secret_keys)):
        raise typer.Exit(1)


@wechat_app.command("clear")
def wechat_clear(shop: Annotated[str, typer.Argument(help="The shop's handle.")]) -> None:
    """Forget the shop's own WeChat: it goes back to the deployment's."""

    async def clear(db: Database, accounts: WechatAccounts) -> bool:
        return await accounts.clear(await _shop_id(db, shop))

    cleared = _run(command_settings(), clear)
    out.print(f"shop {shop}: " + ("WeChat credentials cleared" if cleared else "had no WeChat credentials"))


def _print(account: SealedAccount, box: SecretBox) -> bool:
    """The account with every secret masked; False when a secret cannot be opened."""
    try:
        open_sealed(account, box)
        readable, state = True, "set"
    except SecretUnreadable as exc:
        readable, state = False, "[red]cannot be opened[/red]"
        err.print(f"[red]stored secrets:[/red] {exc}")
    if account.app_id:
        out.print(f"mini-program  app id {account.app_id}, app secret {state}")
    else:
        out.print("mini-program  the deployment's")
    if account.mch_id:
        fingerprint = hashlib.sha256((account.platform_key or "").encode()).hexdigest()[:16]
        out.print(f"WeChat Pay    merchant {account.mch_id}, serial {account.serial_no}, private key {state}, "
                  f"APIv3 key {state}, platform key sha256:{fingerprint}")
    elif account.sub_mch_id:
        out.print(f"WeChat Pay    sub-merchant {account.sub_mch_id} (app {account.sub_app_id or account.app_id or 'the deployment'}'s) "
                  "under the deployment's service provider")
    else:
        out.print("WeChat Pay    the deployment's merchant")
    return readable


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Seal every stored secret again with the first JIMU_SECRET_KEY key, all or nothing; then older keys can go."""
    settings = command_settings()
    box = SecretBox(settings.secret_keys)
    if not box.ready:
        err.print("[red]JIMU_SECRET_KEY:[/red] not set: put the new key first, the old ones after it (comma-separated)")
        raise typer.Exit(2)

    try:
        done = _run(settings, lambda db, accounts: accounts.reseal(box.reseal))
    except SecretUnreadable as exc:
        err.print(f"[red]nothing was rotated:[/red] {exc}")
        raise typer.Exit(1) from exc
    # Webhook secrets, in a transaction of their own: running rotate again after a failure is harmless.
    subscriptions = SubscriptionSecrets(box, production=False)
    try:
        hooks = on_database(settings, lambda db: SqlWebhooks(db).reseal(subscriptions.reseal))
    except (SecretUnreadable, ValueError) as exc:
        err.print(f"[red]webhook secrets were not rotated:[/red] {exc} (WeChat secrets were: run it again)")
        raise typer.Exit(1) from exc
    try:
        remotes = on_database(settings, lambda db: SqlShopRemotes(db).reseal(subscriptions.reseal))
    except (SecretUnreadable, ValueError) as exc:
        err.print(f"[red]merchants' system secrets were not rotated:[/red] {exc} (the others were: run it again)")
        raise typer.Exit(1) from exc
    out.print(f"{done.secrets} secret(s) of {done.shops} shop(s), {hooks} webhook secret(s) and {remotes} merchant "
              "system secret(s) sealed again with the first key; keys after it in JIMU_SECRET_KEY can now be dropped")


@secrets_app.command("generate-key")
def secrets_generate_key() -> None:
    """Print a new key for JIMU_SECRET_KEY (put it first to start sealing with it)."""
    out.print(new_key())


async def refuse_unsealable(settings: Settings, db: Database) -> None:
    """Production with stored shop secrets needs JIMU_SECRET_KEY: refuse to serve without it."""
    if not settings.production or settings.secret_keys:
        return
    from sqlalchemy import func, select

    from adapters.wechat_accounts.sql import ShopWechatRow

    [count] = (await db.rows(select(func.count()).select_from(ShopWechatRow.__table__)))[0]
    if count:
        raise SettingsError(f"{count} shop(s) have WeChat credentials sealed with JIMU_SECRET_KEY: set it")
