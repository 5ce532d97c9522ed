import pytest

from gateway.settings import DEV_SECRET, Settings, SettingsError


def test_development_defaults_need_no_environment():
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite+aiosqlite:///./jimu.db"
    assert settings.secret == DEV_SECRET
    assert settings.sandbox_pay_secret == "sandbox-secret"
    assert settings.reservation_ttl_seconds == 1800
    assert settings.stale_checkout_seconds == 120


def test_the_stale_checkout_threshold_is_a_setting():
    assert Settings.from_env({"JIMU_STALE_CHECKOUT_SECONDS": "45"}).stale_checkout_seconds == 45


def test_production_refuses_to_start_without_a_real_secret():
    with pytest.raises(SettingsError, match="JIMU_SECRET"):
        Settings.from_env({"JIMU_ENV": "production"})
    with pytest.raises(SettingsError, match="JIMU_SECRET"):
        Settings.from_env({"JIMU_ENV": "production", "JIMU_SECRET": "short"})


WECHAT_PAY = {
    "JIMU_WECHAT_APP_ID": "wx123", "JIMU_WECHAT_APP_SECRET": "s", "JIMU_WECHAT_PAY_MCH_ID": "1900000001",
    "JIMU_WECHAT_PAY_SERIAL_NO": "SERIAL", "JIMU_WECHAT_PAY_PRIVATE_KEY_FILE": "/etc/jimu/merchant.pem",
    "JIMU_WECHAT_PAY_PLATFORM_KEY_FILE": "/etc/jimu/platform.pem", "JIMU_WECHAT_PAY_API_V3_KEY": "k" * 32,
    "JIMU_WECHAT_PAY_NOTIFY_URL": "https://shop.example/webhooks/payments/wechat",
}


def test_production_takes_wechat_pay_and_has_no_default_sandbox_secret():
    settings = Settings.from_env({"JIMU_ENV": "production", "JIMU_SECRET": "x" * 32, **WECHAT_PAY})
    assert settings.sandbox_pay_secret is None
    assert settings.payment_provider == "WECHAT_PAY" and settings.wechat_pay_mch_id == "1900000001"


def test_production_refuses_the_sandbox_and_an_incomplete_wechat_pay():
    with pytest.raises(SettingsError, match="WECHAT_PAY"):
        Settings.from_env({"JIMU_ENV": "production", "JIMU_SECRET": "x" * 32, "JIMU_PAYMENT_PROVIDER": "SANDBOX"})
    incomplete = {k: v for k, v in WECHAT_PAY.items() if k != "JIMU_WECHAT_PAY_API_V3_KEY"}
    with pytest.raises(SettingsError, match="JIMU_WECHAT_PAY_API_V3_KEY"):
        Settings.from_env({"JIMU_ENV": "production", "JIMU_SECRET": "x" * 32, **incomplete})


@pytest.mark.parametrize(
    "environ",
    [
        {"JIMU_ENV": "staging"},
        {"JIMU_RESERVATION_TTL_SECONDS": "soon"},
        {"JIMU_RESERVATION_TTL_SECONDS": "0"},
        {"JIMU_WECHAT_APP_ID": "wx123"},
        {"JIMU_PAYMENT_PROVIDER": "ALIPAY"},
        {"JIMU_SWEEP_INTERVAL_SECONDS": "-1"},
        {"JIMU_STALE_CHECKOUT_SECONDS": "0"},
        {"JIMU_STALE_CHECKOUT_SECONDS": "2m"},
    ],
)
def test_bad_settings_are_refused_with_their_name(environ):
    with pytest.raises(SettingsError):
        Settings.from_env(environ)
