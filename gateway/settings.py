"""Settings, read once from an environment mapping (``os.environ`` in production)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

DEV_SECRET = "jimu-development-secret-never-use-in-production"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./jimu.db"


class SettingsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    env: Literal["development", "production"] = "development"
    secret: str = DEV_SECRET
    sandbox_pay_secret: str | None = "sandbox-secret"
    reservation_ttl_seconds: int = 1800
    sweep_interval_seconds: int = 5
    token_ttl_seconds: int = 7 * 24 * 3600
    max_body_bytes: int = 1_048_576
    demo: bool = False
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None

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
        return cls(
            database_url=environ.get("JIMU_DATABASE_URL") or DEFAULT_DATABASE_URL,
            env=env,  # type: ignore[arg-type]
            secret=secret,
            sandbox_pay_secret=environ.get("JIMU_SANDBOX_PAY_SECRET") or (None if production else "sandbox-secret"),
            reservation_ttl_seconds=_positive(environ, "JIMU_RESERVATION_TTL_SECONDS", 1800),
            sweep_interval_seconds=_positive(environ, "JIMU_SWEEP_INTERVAL_SECONDS", 5),
            token_ttl_seconds=_positive(environ, "JIMU_TOKEN_TTL_SECONDS", 7 * 24 * 3600),
            max_body_bytes=_positive(environ, "JIMU_MAX_BODY_BYTES", 1_048_576),
            demo=environ.get("JIMU_DEMO", "") in ("1", "true", "yes"),
            wechat_app_id=wechat_id or None,
            wechat_app_secret=wechat_secret or None,
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
