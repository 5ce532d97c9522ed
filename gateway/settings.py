"""Settings, read once from an environment mapping (``os.environ`` in production)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

DEV_SECRET = "jimu-development-secret-never-use-in-production"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./jimu.db"


class SettingsError(ValueError):
    pass


WECHAT_PAY_SETTINGS = ("mch_id", "serial_no", "private_key_file", "platform_key_file", "api_v3_key", "notify_url")


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    env: Literal["development", "production"] = "development"
    secret: str = DEV_SECRET
    sandbox_pay_secret: str | None = "sandbox-secret"
    reservation_ttl_seconds: int = 1800
    sweep_interval_seconds: int = 5
    stale_checkout_seconds: int = 120
    token_ttl_seconds: int = 7 * 24 * 3600
    max_body_bytes: int = 1_048_576
    demo: bool = False
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    payment_provider: Literal["SANDBOX", "WECHAT_PAY"] = "SANDBOX"
    wechat_pay_mch_id: str | None = None
    wechat_pay_serial_no: str | None = None
    wechat_pay_private_key_file: str | None = None
    wechat_pay_platform_key_file: str | None = None
    wechat_pay_api_v3_key: str | None = None
    wechat_pay_notify_url: str | None = None
    response_cache_seconds: float = 1.0
    response_cache_bytes: int = 32 * 1024 * 1024
    reference_cache_seconds: float = 1.0
    redis_url: str | None = None
    fast_path: bool = True
    max_query_cost: int = 10_000

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        env = environ.get("JIMU_ENV", "development")
        if env not in ("development", "production"):
            raise SettingsError(f"JIMU_ENV must be development or production, not {env!r}")
        production = env == "production"
        secret = environ.get("JIMU_SECRET") or (None if production else DEV_SECRET)
        if secret is None or (production and len(secret) < 32):
            raise SettingsError("JIMU_SECRET must be set to at least 32 characters in production")
        wechat_id, wechat_secret = environ.get("JIMU_WECHAT_APP_ID"), environ.get("JIMU_WECHAT_APP_SECRET")
        if bool(wechat_id) != bool(wechat_secret):
            raise SettingsError("JIMU_WECHAT_APP_ID and JIMU_WECHAT_APP_SECRET go together")
        provider = environ.get("JIMU_PAYMENT_PROVIDER") or ("WECHAT_PAY" if production else "SANDBOX")
        if provider not in ("SANDBOX", "WECHAT_PAY"):
            raise SettingsError(f"JIMU_PAYMENT_PROVIDER must be SANDBOX or WECHAT_PAY, not {provider!r}")
        if production and provider == "SANDBOX":
            raise SettingsError("production takes real payments: JIMU_PAYMENT_PROVIDER=WECHAT_PAY")
        pay = {name: environ.get(f"JIMU_WECHAT_PAY_{name.upper()}") or None for name in WECHAT_PAY_SETTINGS}
        if provider == "WECHAT_PAY":
            missing = [f"JIMU_WECHAT_PAY_{n.upper()}" for n, v in pay.items() if not v]
            if missing or not wechat_id:
                raise SettingsError("WeChat Pay needs JIMU_WECHAT_APP_ID and " + ", ".join(missing or ["..."]))
        return cls(
            payment_provider=provider,  # type: ignore[arg-type]
            **{f"wechat_pay_{name}": value for name, value in pay.items()},
            database_url=environ.get("JIMU_DATABASE_URL") or DEFAULT_DATABASE_URL,
            env=env,  # type: ignore[arg-type]
            secret=secret,
            sandbox_pay_secret=environ.get("JIMU_SANDBOX_PAY_SECRET") or (None if production else "sandbox-secret"),
            reservation_ttl_seconds=_positive(environ, "JIMU_RESERVATION_TTL_SECONDS", 1800),
            sweep_interval_seconds=_positive(environ, "JIMU_SWEEP_INTERVAL_SECONDS", 5),
            stale_checkout_seconds=_positive(environ, "JIMU_STALE_CHECKOUT_SECONDS", 120),
            token_ttl_seconds=_positive(environ, "JIMU_TOKEN_TTL_SECONDS", 7 * 24 * 3600),
            max_body_bytes=_positive(environ, "JIMU_MAX_BODY_BYTES", 1_048_576),
            demo=environ.get("JIMU_DEMO", "") in ("1", "true", "yes"),
            wechat_app_id=wechat_id or None,
            wechat_app_secret=wechat_secret or None,
            response_cache_seconds=_seconds(environ, "JIMU_RESPONSE_CACHE_SECONDS", 1.0),
            response_cache_bytes=_positive(environ, "JIMU_RESPONSE_CACHE_BYTES", 32 * 1024 * 1024),
            reference_cache_seconds=_seconds(environ, "JIMU_REFERENCE_CACHE_SECONDS", 1.0),
            redis_url=_redis_url(environ.get("JIMU_REDIS_URL") or None),
            fast_path=environ.get("JIMU_FAST_PATH", "1") not in ("0", "false", "no"),
            max_query_cost=_positive(environ, "JIMU_MAX_QUERY_COST", 10_000),
        )


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from exc
    if value <= 0:
        raise SettingsError(f"{name} must be positive")
    return value


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    """A duration in seconds, 0 or more (0 turns the thing it times off)."""
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from exc
    if not 0 <= value <= 86_400:
        raise SettingsError(f"{name} must be between 0 and 86400 seconds")
    return value


def _redis_url(url: str | None) -> str | None:
    if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("JIMU_REDIS_URL must be a redis://, rediss:// or unix:// URL")
    return url
