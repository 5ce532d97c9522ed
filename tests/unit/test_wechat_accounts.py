"""Sealing shops' WeChat secrets, rotating the keys, and each shop's providers kept until they change."""

from __future__ import annotations

import json

import httpx
import pytest

from adapters.payments.port import BadNotice, NotConfigured
from adapters.payments.wechat import WechatPayProvider
from adapters.shops.fake import FakeShopStore
from adapters.shops.port import Shop
from adapters.wechat_accounts.fake import FakeWechatAccounts
from adapters.wechat_accounts.port import (
    DirectMerchant,
    MiniProgram,
    SecretKeyMissing,
    SecretUnreadable,
    SubMerchant,
    WechatAccount,
)
from adapters.wechat_accounts.providers import ShopWechat, ShopWechatPay, WechatDefaults
from adapters.wechat_accounts.rules import open_sealed, problems, seal
from adapters.wechat_accounts.secret_box import SecretBox, new_key
from gateway.settings import Settings, SettingsError
from tests.unit.test_wechat_pay import (
    API_V3_KEY,
    Keys,
    keys,
    notification,
    payment,
    pem_private,
    pem_public,
)

__all__ = ["keys"]  # the module-scoped key fixture
OLD, NEW = new_key(), new_key()


def account(keys: Keys, shop_id: int = 1) -> WechatAccount:
    return WechatAccount(shop_id, MiniProgram("wxshop000000001", "app-secret-1"),
                         DirectMerchant("1900000101", "SERIAL1", pem_private(keys.merchant), pem_public(keys.platform),
                                        API_V3_KEY))


def test_a_sealed_secret_opens_with_its_key_and_no_other():
    # given
    sealed = SecretBox([OLD]).seal(b"app-secret-1")
    # then it is not the plain text, it opens with the key, and another key cannot open it
    assert b"app-secret-1" not in sealed.encode()
    assert SecretBox([OLD]).open(sealed) == b"app-secret-1"
    with pytest.raises(SecretUnreadable, match="JIMU_SECRET_KEY"):
        SecretBox([NEW]).open(sealed)
    with pytest.raises(SecretUnreadable, match="not set"):
        SecretBox([]).open(sealed)
    with pytest.raises(SecretKeyMissing):
        SecretBox([]).seal(b"x")


def test_an_account_round_trips_sealed(keys: Keys):
    # given
    box = SecretBox([OLD])
    # when
    sealed = seal(account(keys), box)
    # then only public parts are readable as stored, and opening gives the account back
    assert sealed.app_id == "wxshop000000001" and sealed.mch_id == "1900000101"
    stored = " ".join(str(v) for v in (sealed.app_secret, sealed.private_key, sealed.api_v3_key))
    assert "app-secret-1" not in stored and "PRIVATE KEY" not in stored
    assert open_sealed(sealed, box) == account(keys)


async def test_rotation_seals_everything_with_the_first_key_after_which_the_old_can_go(keys: Keys):
    # given two shops' accounts sealed with the old key
    store = FakeWechatAccounts()
    for shop_id in (1, 2):
        await store.put(seal(account(keys, shop_id), SecretBox([OLD])))
    # when rotating with the new key first
    done = await store.reseal(SecretBox([NEW, OLD]).reseal)
    # then every secret opens with the new key alone, and no longer with the old one
    assert (done.shops, done.secrets) == (2, 6)
    for sealed in await store.accounts_of([1, 2]):
        assert sealed is not None and open_sealed(sealed, SecretBox([NEW])).app == account(keys).app
        with pytest.raises(SecretUnreadable):
            open_sealed(sealed, SecretBox([OLD]))


async def test_rotation_is_all_or_nothing_when_a_secret_opens_with_no_key(keys: Keys):
    # given one account sealed with a key that is not configured
    store = FakeWechatAccounts()
    await store.put(seal(account(keys, 1), SecretBox([OLD])))
    await store.put(seal(account(keys, 2), SecretBox([new_key()])))
    before = await store.accounts_of([1, 2])
    # when / then
    with pytest.raises(SecretUnreadable, match="nothing was changed"):
        await store.reseal(SecretBox([NEW, OLD]).reseal)
    assert await store.accounts_of([1, 2]) == before


def test_what_wechat_would_refuse_is_named_before_it_is_stored(keys: Keys):
    bad = WechatAccount(1, MiniProgram("wx app", ""), DirectMerchant("19x", "S 1", b"not a key", pem_private(keys.platform), b"short"))
    assert [field for field, _ in problems(bad)] == ["app_id", "app_secret", "mch_id", "serial_no", "api_v3_key",
                                                     "private_key", "platform_key"]
    assert problems(account(keys)) == [] and problems(WechatAccount(1, None, SubMerchant("x1"))) == [("sub_mch_id", "the sub-merchant id is 1 to 32 digits")]


def defaults(provider=None) -> WechatDefaults:
    return WechatDefaults("https://wechat.test", "https://pay.test", "https://jimu.test/webhooks/payments/wechat",
                          provider, development=False)


def shop_wechat(store: FakeWechatAccounts, provider=None) -> ShopWechat:
    shops = FakeShopStore()
    shops.put_shop(Shop(1, "brand-one", "Brand One", 5_000_000))
    return ShopWechat(store, shops, SecretBox([OLD]), httpx.AsyncClient(), defaults(provider))


async def test_a_shops_providers_are_kept_until_its_credentials_change(keys: Keys):
    # given a shop with its own app and merchant
    store = FakeWechatAccounts()
    await store.put(seal(account(keys), SecretBox([OLD])))
    wechat = shop_wechat(store)
    # when asked twice, then the same providers (no keys loaded again)
    first = await wechat.pay(1)
    assert first is not None and await wechat.pay(1) is first
    assert first.config.notify_url == "https://jimu.test/webhooks/payments/wechat/brand-one"
    # when the credentials change, then new providers; when cleared, none
    await store.put(seal(account(keys), SecretBox([OLD])))
    assert await wechat.pay(1) is not first
    await store.clear(1)
    assert await wechat.pay(1) is None
    with pytest.raises(NotConfigured, match="jimu shop wechat set"):
        await ShopWechatPay(wechat, None).ready(1)


async def test_credentials_cleared_and_set_again_are_the_new_ones_everywhere(keys: Keys):
    # given a worker that used a shop's app (version 1 of its row)
    store = FakeWechatAccounts()
    await store.put(seal(WechatAccount(1, MiniProgram("wxold0000000001", "old-secret")), SecretBox([OLD])))
    wechat = shop_wechat(store)
    before = await wechat.identity(1, None)  # type: ignore[arg-type]
    assert await wechat.identity(1, None) is before  # type: ignore[arg-type]
    # when the credentials are cleared and set anew (the row starts again at version 1)
    await store.clear(1)
    await store.put(seal(WechatAccount(1, MiniProgram("wxnew0000000001", "new-secret")), SecretBox([OLD])))
    # then the worker signs in with new ones, not what it built from the old
    assert await wechat.identity(1, None) is not before  # type: ignore[arg-type]


async def test_a_sub_merchant_pays_through_the_partner_api_of_the_service_provider(keys: Keys):
    # given a shop that is a sub-merchant under the deployment's service provider
    seen: list[httpx.Request] = []

    def wechat_pay(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"prepay_id": "wx-prepay-sub"})

    store = FakeWechatAccounts()
    await store.put(seal(WechatAccount(1, MiniProgram("wxshop000000001", "s"), SubMerchant("1900000999")), SecretBox([OLD])))
    shops = FakeShopStore()
    shops.put_shop(Shop(1, "brand-one", "Brand One", 5_000_000))
    wechat = ShopWechat(store, shops, SecretBox([OLD]), httpx.AsyncClient(transport=httpx.MockTransport(wechat_pay)),
                        defaults(keys.config()))
    provider = await wechat.pay(1)
    assert isinstance(provider, WechatPayProvider)
    # when the shopper pays
    session = await provider.session(payment(), "jimu order 1", "o-of-the-shops-app")
    # then the partner API is asked, the service provider signs, and the sheet is the shop's app's
    [request] = seen
    assert request.url.path == "/v3/pay/partner/transactions/jsapi" and str(request.url).startswith("https://pay.test/")
    body = json.loads(request.content)
    assert (body["sp_appid"], body["sp_mchid"], body["sub_appid"], body["sub_mchid"]) == (
        "wx-app", "1900000001", "wxshop000000001", "1900000999")
    assert body["payer"] == {"sub_openid": "o-of-the-shops-app"}
    assert body["notify_url"] == "https://jimu.test/webhooks/payments/wechat/brand-one"
    assert session.client_params["appId"] == "wxshop000000001"
    # and a notice for another sub-merchant of the same service provider is not this shop's
    transaction = {"out_trade_no": "jimu-42", "sub_mchid": "1900000888", "trade_state": "SUCCESS", "amount": {"total": 1}}
    with pytest.raises(BadNotice, match="sub-merchant"):
        provider.verify(*notification(keys, transaction))
    ours = provider.verify(*notification(keys, {**transaction, "sub_mchid": "1900000999"}))
    assert ours is not None and ours.payment_id == 42


def test_secret_keys_and_wechat_urls_are_settings():
    one, two = new_key(), new_key()
    dev = {"JIMU_ENV": "development"}
    settings = Settings.from_env({**dev, "JIMU_SECRET_KEY": f"{one}, {two}", "JIMU_WECHAT_API_BASE": "http://127.0.0.1:9/",
                                  "JIMU_WECHAT_PAY_API_BASE": "http://127.0.0.1:8"})
    assert settings.secret_keys == (one, two)
    assert (settings.wechat_api_base, settings.wechat_pay_api_base) == ("http://127.0.0.1:9", "http://127.0.0.1:8")
    assert Settings.from_env(dev).wechat_api_base == "https://api.weixin.qq.com"
    for bad, named in (({"JIMU_SECRET_KEY": "not-a-key"}, "JIMU_SECRET_KEY"), ({"JIMU_SECRET_KEY": one[:-4]}, "JIMU_SECRET_KEY"),
                       ({"JIMU_WECHAT_API_BASE": "ftp://x"}, "JIMU_WECHAT_API_BASE")):
        with pytest.raises(SettingsError, match=named):
            Settings.from_env({**dev, **bad})


def test_production_may_leave_wechat_to_the_shops_but_needs_a_notify_url():
    production = {"JIMU_ENV": "production", "JIMU_SECRET": "x" * 32}
    settings = Settings.from_env({**production, "JIMU_WECHAT_PAY_NOTIFY_URL": "https://jimu.example/webhooks/payments/wechat"})
    assert settings.payment_provider == "WECHAT_PAY" and settings.wechat_pay_mch_id is None
    with pytest.raises(SettingsError, match="JIMU_WECHAT_PAY_NOTIFY_URL"):
        Settings.from_env(production)
