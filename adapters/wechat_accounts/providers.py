"""Each shop's WeChat providers, built from its own credentials once per worker.

Loading RSA keys is slow, so a shop's sign-in and payment providers are kept
and reused until the stored credentials change: every use reads the shop's row
(one small query, only on sign-in, payment and notifications) and rebuilds only
when its version is not the one the providers were built from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import httpx

from adapters.identity.dev import DevThenProvider
from adapters.identity.port import IdentityProvider
from adapters.identity.wechat import WechatIdentityProvider
from adapters.payments.port import Method, NotConfigured, Notice, Payment, Session
from adapters.payments.wechat import WechatPayConfig, WechatPayProvider
from adapters.shops.port import ShopStore
from adapters.wechat_accounts.port import (
    DirectMerchant,
    SealedAccount,
    SubMerchant,
    WechatAccount,
    WechatAccounts,
)
from adapters.wechat_accounts.rules import open_sealed
from adapters.wechat_accounts.secret_box import SecretBox

log = logging.getLogger("jimu.wechat")


@dataclass(frozen=True, slots=True)
class WechatDefaults:
    """The deployment's side: where WeChat is, where notifications go, and its service-provider merchant."""

    api_base: str
    pay_api_base: str
    notify_url: str | None  # the deployment merchant's; a shop's own merchant is told <notify_url>/<handle>
    provider: WechatPayConfig | None  # the deployment's merchant: default merchant and service provider
    development: bool  # dev:<anything> codes sign in, beside the shop's own WeChat


@dataclass(frozen=True, slots=True)
class _Built:
    sealed: SealedAccount | None  # what it was built from: a row cleared and set again restarts its
    # version, but never its ciphertext (Fernet seals with a fresh IV), so the whole row is compared
    identity: WechatIdentityProvider | None
    pay: WechatPayProvider | None
    pay_problem: str | None  # why the shop's merchant cannot be used, when it cannot


class ShopWechat:
    def __init__(self, accounts: WechatAccounts, shops: ShopStore, box: SecretBox, client: httpx.AsyncClient,
                 defaults: WechatDefaults) -> None:
        self.accounts = accounts
        self._shops = shops
        self._box = box
        self._client = client
        self._defaults = defaults
        self._built: dict[int, _Built] = {}

    async def identity(self, shop_id: int, default: IdentityProvider) -> IdentityProvider:
        """The shop's own sign-in when it has a mini-program of its own, else ``default``. Raises SecretUnreadable."""
        own = (await self._current(shop_id)).identity
        if own is None:
            return default
        return DevThenProvider(own) if self._defaults.development else own

    async def pay(self, shop_id: int) -> WechatPayProvider | None:
        """The shop's own merchant (or sub-merchant), None when it has none. Raises SecretUnreadable, NotConfigured."""
        built = await self._current(shop_id)
        if built.pay_problem:
            raise NotConfigured(built.pay_problem)
        return built.pay

    async def _current(self, shop_id: int) -> _Built:
        [sealed] = await self.accounts.accounts_of([shop_id])
        built = self._built.get(shop_id)
        if built is None or built.sealed != sealed:
            account = open_sealed(sealed, self._box) if sealed else WechatAccount(shop_id)
            built = await self._build(sealed, account)
            self._built[shop_id] = built
        return built

    async def _build(self, sealed: SealedAccount | None, account: WechatAccount) -> _Built:
        defaults, app = self._defaults, account.app
        identity = None if app is None else WechatIdentityProvider(app.app_id, app.app_secret, self._client,
                                                                   defaults.api_base)
        merchant, pay, problem = account.merchant, None, None
        if merchant is not None:
            [shop] = await self._shops.shops_by_id([account.shop_id])
            if not defaults.notify_url or shop is None:
                problem = "JIMU_WECHAT_PAY_NOTIFY_URL is not set: WeChat Pay would not know where to notify"
            elif isinstance(merchant, DirectMerchant):
                app_id = app.app_id if app else (defaults.provider.app_id if defaults.provider else "")
                if not app_id:
                    problem = "WeChat Pay needs the shop's mini-program app id (jimu shop wechat set --app-id)"
                config = WechatPayConfig(app_id=app_id, mch_id=merchant.mch_id, serial_no=merchant.serial_no,
                                         private_key_pem=merchant.private_key_pem, api_v3_key=merchant.api_v3_key,
                                         platform_public_key_pem=merchant.platform_public_key_pem,
                                         notify_url=f"{defaults.notify_url.rstrip('/')}/{shop.handle}")
                pay = None if problem else WechatPayProvider(config, self._client, defaults.pay_api_base)
            elif isinstance(merchant, SubMerchant):
                if defaults.provider is None:
                    problem = "a sub-merchant needs the deployment's service-provider merchant (JIMU_WECHAT_PAY_*)"
                else:
                    config = replace(defaults.provider, sub_mch_id=merchant.sub_mch_id,
                                     sub_app_id=merchant.sub_app_id or (app.app_id if app else None),
                                     notify_url=f"{defaults.notify_url.rstrip('/')}/{shop.handle}")
                    pay = WechatPayProvider(config, self._client, defaults.pay_api_base)
        return _Built(sealed, identity, pay, problem)


class ShopWechatPay:
    """WeChat Pay through each shop's own merchant, else through the deployment's (``default``)."""

    method = Method.WECHAT_PAY

    def __init__(self, wechat: ShopWechat, default: WechatPayProvider | None) -> None:
        self.wechat = wechat
        self.default = default

    async def provider_for(self, shop_id: int) -> WechatPayProvider:
        provider = await self.wechat.pay(shop_id) or self.default
        if provider is None:
            raise NotConfigured("this shop has no WeChat Pay merchant set up (jimu shop wechat set ... --mch-id)")
        return provider

    async def ready(self, shop_id: int) -> None:
        await self.provider_for(shop_id)

    async def session(self, payment: Payment, order_description: str, payer: str | None) -> Session:
        return await (await self.provider_for(payment.shop_id)).session(payment, order_description, payer)

    async def query(self, payment: Payment) -> Notice | None:
        return await (await self.provider_for(payment.shop_id)).query(payment)
