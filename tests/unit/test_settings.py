import pytest

from gateway.settings import DEV_SECRET, Settings, SettingsError


def test_development_defaults_need_no_environment():
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite+aiosqlite:///./jimu.db"
    assert settings.secret == DEV_SECRET
    assert settings.sandbox_pay_secret == "sandbox-secret"
    assert settings.reservation_ttl_seconds == 1800


def test_production_refuses_to_start_without_a_real_secret():
    with pytest.raises(SettingsError, match="JIMU_SECRET"):
        Settings.from_env({"JIMU_ENV": "production"})
    with pytest.raises(SettingsError, match="JIMU_SECRET"):
        Settings.from_env({"JIMU_ENV": "production", "JIMU_SECRET": "short"})


def test_production_has_no_default_sandbox_secret():
    settings = Settings.from_env({"JIMU_ENV": "production", "JIMU_SECRET": "x" * 32})
    assert settings.sandbox_pay_secret is None


@pytest.mark.parametrize(
    "environ",
    [
        {"JIMU_ENV": "staging"},
        {"JIMU_RESERVATION_TTL_SECONDS": "soon"},
        {"JIMU_RESERVATION_TTL_SECONDS": "0"},
        {"JIMU_WECHAT_APP_ID": "wx123"},
    ],
)
def test_bad_settings_are_refused_with_their_name(environ):
    with pytest.raises(SettingsError):
        Settings.from_env(environ)
