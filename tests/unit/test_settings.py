import pytest

from gateway.settings import DEV_SECRET, Settings, SettingsError

DEV = {"JIMU_ENV": "development"}


def test_where_it_runs_must_be_said():
    # given no settings at all, when they are read, then the refusal names what to set
    with pytest.raises(SettingsError, match="JIMU_ENV=production") as refused:
        Settings.from_env({})
    assert "JIMU_ENV=development" in str(refused.value) and "--demo" in str(refused.value)


def test_the_demo_is_development_and_never_production():
    assert Settings.from_env({"JIMU_DEMO": "1"}).env == "development"
    with pytest.raises(SettingsError, match="development only"):
        Settings.from_env({"JIMU_DEMO": "1", "JIMU_ENV": "production", "JIMU_SECRET": "x" * 32})


def test_development_said_needs_nothing_else():
    settings = Settings.from_env({"JIMU_ENV": "development"})
    assert settings.database_url == "sqlite+aiosqlite:///./jimu.db"
    assert settings.secret == DEV_SECRET
    assert settings.sandbox_pay_secret == "sandbox-secret"
    assert settings.reservation_ttl_seconds == 1800
    assert settings.stale_checkout_seconds == 120


def test_the_stale_checkout_threshold_is_a_setting():
    assert Settings.from_env({**DEV, "JIMU_STALE_CHECKOUT_SECONDS": "45"}).stale_checkout_seconds == 45


def test_logs_are_json_in_production_and_text_in_development_unless_told():
    assert Settings.from_env(DEV).log_format == "text"
    assert Settings.from_env({**DEV, "JIMU_LOG_FORMAT": "json", "JIMU_LOG_LEVEL": "debug"}).log_level == "DEBUG"
    production = Settings.from_env({"JIMU_ENV": "production", "JIMU_SECRET": "x" * 32, **WECHAT_PAY})
    assert production.log_format == "json"
    assert production.answer_extensions == {} and Settings.from_env(DEV).answer_extensions == {"mode": "development"}


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
    ("environ", "named"),
    [
        ({"JIMU_ENV": "staging"}, "JIMU_ENV"),
        ({**DEV, "JIMU_RESERVATION_TTL_SECONDS": "soon"}, "JIMU_RESERVATION_TTL_SECONDS"),
        ({**DEV, "JIMU_RESERVATION_TTL_SECONDS": "0"}, "JIMU_RESERVATION_TTL_SECONDS"),
        ({**DEV, "JIMU_WECHAT_APP_ID": "wx123"}, "JIMU_WECHAT_APP_SECRET"),
        ({**DEV, "JIMU_PAYMENT_PROVIDER": "ALIPAY"}, "JIMU_PAYMENT_PROVIDER"),
        ({**DEV, "JIMU_SWEEP_INTERVAL_SECONDS": "-1"}, "JIMU_SWEEP_INTERVAL_SECONDS"),
        ({**DEV, "JIMU_STALE_CHECKOUT_SECONDS": "0"}, "JIMU_STALE_CHECKOUT_SECONDS"),
        ({**DEV, "JIMU_STALE_CHECKOUT_SECONDS": "2m"}, "JIMU_STALE_CHECKOUT_SECONDS"),
        ({**DEV, "JIMU_LOG_FORMAT": "xml"}, "JIMU_LOG_FORMAT"),
        ({**DEV, "JIMU_LOG_LEVEL": "loud"}, "JIMU_LOG_LEVEL"),
        ({**DEV, "JIMU_SHUTDOWN_GRACE_SECONDS": "-5"}, "JIMU_SHUTDOWN_GRACE_SECONDS"),
    ],
)
def test_bad_settings_are_refused_with_their_name(environ, named):
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(environ)


def test_no_secret_is_in_a_repr():
    # given settings and credentials holding secrets
    from adapters.payments.wechat import WechatPayConfig
    from adapters.wechat_accounts.port import DirectMerchant, MiniProgram

    settings = Settings.from_env({**DEV, "JIMU_SECRET": "S" * 40, "JIMU_SANDBOX_PAY_SECRET": "sandbox-XYZ",
                                  "JIMU_WECHAT_APP_ID": "wx1", "JIMU_WECHAT_APP_SECRET": "app-XYZ"})
    app = MiniProgram("wx1", "app-XYZ")
    merchant = DirectMerchant("1900", "SERIAL", b"PRIVATE-XYZ", b"PUBLIC", b"V3-XYZ")
    config = WechatPayConfig("wx1", "1900", "SERIAL", b"PRIVATE-XYZ", b"V3-XYZ", b"PUBLIC", "https://n")
    # when they are printed, then no secret shows
    for shown in (repr(settings), repr(app), repr(merchant), repr(config)):
        assert "XYZ" not in shown and "S" * 40 not in shown
    assert "wx1" in repr(app) and "SERIAL" in repr(merchant)


def test_webhook_settings_are_read_and_checked_and_production_refuses_private_receivers():
    read = Settings.from_env({"JIMU_ENV": "development", "JIMU_WEBHOOK_RETRY_HOURS": "0.5",
                              "JIMU_WEBHOOK_POLL_SECONDS": "0", "JIMU_WEBHOOK_FIRST_RETRY_SECONDS": "0.2"})
    assert (read.webhooks.retry_hours, read.webhooks.poll_seconds, read.webhooks.first_retry_seconds) == (0.5, 0.0, 0.2)
    assert read.webhooks.allow_private
    for bad, said in (({"JIMU_WEBHOOK_RETRY_HOURS": "x"}, "must be a number"),
                      ({"JIMU_WEBHOOK_RETRY_HOURS": "400", "JIMU_WEBHOOK_RETENTION_DAYS": "1"}, "must cover"),
                      ({"JIMU_WEBHOOK_TIMEOUT_SECONDS": "0"}, "more than 0 and 60"),
                      ({"JIMU_WEBHOOK_FIRST_RETRY_SECONDS": "0"}, "more than 0")):
        with pytest.raises(SettingsError, match=said):
            Settings.from_env({"JIMU_ENV": "development", **bad})

    production = Settings.from_env({"JIMU_ENV": "production", "JIMU_SECRET": "x" * 32, **WECHAT_PAY})
    assert production.webhooks.allow_private is False


def test_federation_is_off_unless_switched_on():
    assert Settings.from_env(DEV).federation is False
    assert Settings.from_env({**DEV, "JIMU_FEDERATION": "1"}).federation is True
    assert Settings.from_env({**DEV, "JIMU_FEDERATION": "0"}).federation is False
    with pytest.raises(SettingsError, match="JIMU_FEDERATION"):
        Settings.from_env({**DEV, "JIMU_FEDERATION": "maybe"})


def test_persisted_queries_are_kept_for_a_week_and_100_000_unless_told():
    default = Settings.from_env({"JIMU_ENV": "development"})
    assert (default.apq_retention_days, default.apq_max_documents) == (7.0, 100_000)
    told = Settings.from_env({"JIMU_ENV": "development", "JIMU_APQ_RETENTION_DAYS": "0.5",
                              "JIMU_APQ_MAX_DOCUMENTS": "500"})
    assert (told.apq_retention_days, told.apq_max_documents) == (0.5, 500)
    for bad in ({"JIMU_APQ_RETENTION_DAYS": "0"}, {"JIMU_APQ_MAX_DOCUMENTS": "0"}, {"JIMU_APQ_MAX_DOCUMENTS": "many"}):
        with pytest.raises(SettingsError, match=next(iter(bad))):
            Settings.from_env({"JIMU_ENV": "development", **bad})
