"""The one place where real or fake adapters are put together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

from adapters.catalog.fake import FakeCatalogStore
from adapters.catalog.port import CatalogStore
from adapters.catalog.sql import SqlCatalogStore
from adapters.coupons.fake import FakeCoupons
from adapters.coupons.port import Coupons
from adapters.coupons.sql import SqlCoupons
from adapters.db import Database, utcnow
from adapters.delivery.fake import FakeDelivery
from adapters.delivery.port import Delivery
from adapters.delivery.sql import SqlDelivery
from adapters.documents.fake import FakeDocumentStore
from adapters.documents.port import DocumentStore
from adapters.documents.sql import SqlDocumentStore
from adapters.goods.fake import FakeGoodsCatalog
from adapters.goods.port import GoodsCatalog
from adapters.goods.sql import SqlGoodsCatalog
from adapters.identity.dev import DevThenProvider, NoIdentityProvider
from adapters.identity.port import IdentityProvider
from adapters.identity.wechat import WechatIdentityProvider
from adapters.inventory.fake import FakeInventory
from adapters.inventory.port import Inventory
from adapters.inventory.sql import SqlInventory
from adapters.members.fake import FakeMembers
from adapters.members.port import Members
from adapters.members.sql import SqlMembers
from adapters.orders.checkout import Checkout
from adapters.orders.fake import FakeOrders
from adapters.orders.port import Orders
from adapters.orders.pricing import CartPricer
from adapters.orders.sql import SqlOrders
from adapters.payments.cashier import Cashier
from adapters.payments.fake import FakeLedger
from adapters.payments.port import Ledger, Method, PaymentProvider, Settled
from adapters.payments.sandbox import SandboxProvider
from adapters.payments.sql import SqlLedger
from adapters.payments.wechat import WechatPayConfig, WechatPayProvider
from adapters.remote.client import RemoteClient
from adapters.remote.routed import Remotes, RoutedGoods, RoutedInventory
from adapters.shop_remotes.fake import FakeShopRemotes
from adapters.shop_remotes.port import ShopRemotes
from adapters.shop_remotes.sql import SqlShopRemotes
from adapters.shops.fake import FakeShopStore
from adapters.shops.port import ShopStore
from adapters.shops.sql import SqlShopStore
from adapters.webhooks.dispatcher import Dispatcher
from adapters.webhooks.fake import FakeWebhooks
from adapters.webhooks.port import Webhooks
from adapters.webhooks.rules import RetryPolicy
from adapters.webhooks.secrets_at_rest import SubscriptionSecrets
from adapters.webhooks.sender import Sender
from adapters.webhooks.sql import SqlWebhooks
from adapters.wechat_accounts.fake import FakeWechatAccounts
from adapters.wechat_accounts.port import WechatAccounts
from adapters.wechat_accounts.providers import ShopWechat, ShopWechatPay, WechatDefaults
from adapters.wechat_accounts.secret_box import SecretBox
from adapters.wechat_accounts.sql import SqlWechatAccounts
from gateway.migrate import head, revision
from gateway.observe import count_statement
from gateway.settings import Settings, SettingsError


async def _always_healthy() -> bool:
    return True


async def _nothing_to_close() -> None:
    return None


async def _at_head() -> str | None:
    return head()


@dataclass(frozen=True)
class Adapters:
    shops: ShopStore
    goods: GoodsCatalog
    catalog: CatalogStore
    identity: IdentityProvider
    inventory: Inventory
    delivery: Delivery
    coupons: Coupons
    members: Members
    orders: Orders
    ledger: Ledger
    documents: DocumentStore
    wechat: ShopWechat  # each shop's own WeChat sign-in and merchant, over its stored credentials
    webhooks: Webhooks
    remotes: ShopRemotes  # which shops' goods or stock their own systems serve (goods, inventory route by it)
    http: httpx.AsyncClient | None = None
    ping: Callable[[], Awaitable[bool]] = field(default=_always_healthy)
    revision: Callable[[], Awaitable[str | None]] = field(default=_at_head)  # the schema's migration
    close: Callable[[], Awaitable[None]] = field(default=_nothing_to_close)
    databases: tuple[Database, ...] = ()  # what SQL the adapters send through (traced when tracing is on)


def identity_provider(settings: Settings, client: httpx.AsyncClient) -> IdentityProvider:
    wechat = None
    if settings.wechat_app_id and settings.wechat_app_secret:
        wechat = WechatIdentityProvider(settings.wechat_app_id, settings.wechat_app_secret, client,
                                        settings.wechat_api_base)
    if settings.production:
        # Without a deployment-wide app, shops sign in through their own (jimu shop wechat set).
        return wechat or NoIdentityProvider()
    return DevThenProvider(wechat)


def sql_adapters(settings: Settings, db: Database | None = None) -> Adapters:
    db = db or Database(settings.database_url)
    db.count_statements(count_statement)  # each request's statements, for its log line and the metrics
    client = httpx.AsyncClient()

    async def close() -> None:
        await client.aclose()
        await db.dispose()

    shops = SqlShopStore(db)
    remotes = SqlShopRemotes(db)
    goods, inventory = routed(remotes, SqlGoodsCatalog(db), SqlInventory(db), settings, client)
    return Adapters(
        shops=shops,
        goods=goods,
        catalog=SqlCatalogStore(db),
        identity=identity_provider(settings, client),
        inventory=inventory,
        delivery=SqlDelivery(db),
        coupons=SqlCoupons(db),
        members=SqlMembers(db),
        orders=SqlOrders(db),
        ledger=SqlLedger(db),
        documents=SqlDocumentStore(db),
        wechat=shop_wechat(SqlWechatAccounts(db), shops, settings, client),
        webhooks=SqlWebhooks(db),
        remotes=remotes,
        http=client,
        ping=db.ping,
        revision=lambda: revision(db),
        close=close,
        databases=(db,),
    )


def fake_adapters(settings: Settings, client: httpx.AsyncClient | None = None) -> Adapters:
    client = client or httpx.AsyncClient()
    shops, goods, inventory, delivery = FakeShopStore(), FakeGoodsCatalog(), FakeInventory(), FakeDelivery()
    coupons = FakeCoupons()
    members = FakeMembers(coupons)
    orders = FakeOrders()
    remotes = FakeShopRemotes(shops)
    routed_goods, routed_inventory = routed(remotes, goods, inventory, settings, client)
    return Adapters(
        shops=shops,
        goods=routed_goods,
        catalog=FakeCatalogStore(shops, goods, inventory, delivery, members),
        identity=identity_provider(settings, client),
        inventory=routed_inventory,
        delivery=delivery,
        coupons=coupons,
        members=members,
        orders=orders,
        ledger=FakeLedger(orders),
        documents=FakeDocumentStore(),
        wechat=shop_wechat(FakeWechatAccounts(), shops, settings, client),
        webhooks=FakeWebhooks(shops),
        remotes=remotes,
        http=client,
    )


def remote_secrets(settings: Settings) -> SubscriptionSecrets:
    """How the secrets jimu signs calls to merchants' systems with are sealed at rest."""
    return SubscriptionSecrets(SecretBox(settings.secret_keys), settings.production, "merchants' system secrets",
                               "set the shop's remote again (jimu shop remote)")


def routed(remotes: ShopRemotes, goods: GoodsCatalog, inventory: Inventory, settings: Settings,
           client: httpx.AsyncClient) -> tuple[RoutedGoods, RoutedInventory]:
    """Goods and stock from jimu's own adapters, or from a shop's own systems where it has them."""
    serving = Remotes(remotes, RemoteClient(client, timeout=settings.remote_timeout_seconds),
                      remote_secrets(settings).open, goods, inventory, ttl=settings.revocation_seconds)
    return RoutedGoods(serving), RoutedInventory(serving)


def checkout_for(adapters: Adapters, settings: Settings) -> Checkout:
    """Checkout, cancellation and the sweep, over the given adapters."""
    pricer = CartPricer(adapters.goods, adapters.inventory, adapters.delivery, adapters.coupons)
    return Checkout(adapters.orders, adapters.inventory, adapters.coupons, adapters.delivery, pricer,
                    timedelta(seconds=settings.reservation_ttl_seconds), timedelta(seconds=settings.stale_checkout_seconds))


def cashier_for(adapters: Adapters, settings: Settings,
                listeners: Sequence[Callable[[Settled], None]] = ()) -> Cashier:
    """Payments over the given adapters, through the provider the settings name (``listeners``
    are told of every settlement)."""
    providers: dict[Method, PaymentProvider] = {}
    if settings.sandbox_pay_secret:
        providers[Method.SANDBOX] = SandboxProvider(settings.sandbox_pay_secret)
    if settings.payment_provider == "WECHAT_PAY":
        default = None
        if settings.wechat_pay_mch_id:
            default = WechatPayProvider(wechat_pay_config(settings), adapters.http or httpx.AsyncClient(),
                                        settings.wechat_pay_api_base)
        providers[Method.WECHAT_PAY] = ShopWechatPay(adapters.wechat, default)
    method = Method(settings.payment_provider)
    if method not in providers:
        raise SettingsError("the sandbox provider needs JIMU_SANDBOX_PAY_SECRET")
    return Cashier(adapters.ledger, providers, method, checkout_for(adapters, settings), listeners)


def wechat_pay_config(settings: Settings) -> WechatPayConfig:
    """The merchant's WeChat Pay keys, read from the files the settings name."""
    try:
        private_key = Path(settings.wechat_pay_private_key_file or "").read_bytes()
        platform_key = Path(settings.wechat_pay_platform_key_file or "").read_bytes()
    except OSError as exc:
        raise SettingsError(f"cannot read a WeChat Pay key file: {exc}") from exc
    return WechatPayConfig(
        app_id=settings.wechat_app_id or "", mch_id=settings.wechat_pay_mch_id or "",
        serial_no=settings.wechat_pay_serial_no or "", private_key_pem=private_key,
        api_v3_key=(settings.wechat_pay_api_v3_key or "").encode(), platform_public_key_pem=platform_key,
        notify_url=settings.wechat_pay_notify_url or "",
    )


def shop_wechat(accounts: WechatAccounts, shops: ShopStore, settings: Settings, client: httpx.AsyncClient) -> ShopWechat:
    """Shops' own WeChat, with the deployment's merchant as the service provider for sub-merchants."""
    defaults = WechatDefaults(
        api_base=settings.wechat_api_base, pay_api_base=settings.wechat_pay_api_base,
        notify_url=settings.wechat_pay_notify_url,
        provider=wechat_pay_config(settings) if settings.payment_provider == "WECHAT_PAY" and settings.wechat_pay_mch_id else None,
        development=not settings.production,
    )
    return ShopWechat(accounts, shops, SecretBox(settings.secret_keys), client, defaults)


def dispatcher_for(adapters: Adapters, settings: Settings) -> tuple[Dispatcher, Sender]:
    """The webhook dispatcher over the adapters' outbox, and the sender it posts through (to close)."""
    hooks = settings.webhooks
    sender = Sender(allow_private=hooks.allow_private, timeout_seconds=hooks.timeout_seconds)
    secrets = SubscriptionSecrets(SecretBox(settings.secret_keys), settings.production)
    policy = RetryPolicy(first_retry=timedelta(seconds=hooks.first_retry_seconds),
                         window=timedelta(hours=hooks.retry_hours))
    return Dispatcher(adapters.webhooks, sender, secrets.open, policy, hooks.timeout_seconds, utcnow), sender
