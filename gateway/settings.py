"""Settings, read once from an environment mapping (``os.environ`` in production)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

DEV_SECRET = "jimu-development-secret-never-use-in-production"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./jimu.db"
DEFAULT_OTLP_TRACES_URL = "http://localhost:4318/v1/traces"  # the OTLP/HTTP default


class SettingsError(ValueError):
    pass


WHERE_IT_RUNS = (
    "say where jimu runs: JIMU_ENV=production (with JIMU_SECRET of 32 or more characters, JIMU_DATABASE_URL, "
    "the WeChat settings and the rest the README's \"Deploying\" lists), or JIMU_ENV=development on your own "
    "machine (sign-in with dev:<anything>, payments marked paid with the sandbox's public secret, errors "
    "unmasked), or run `jimu serve --demo`"
)
DEVELOPMENT_EXTENSIONS = {"mode": "development"}  # in every GraphQL answer outside production


WECHAT_PAY_SETTINGS = ("mch_id", "serial_no", "private_key_file", "platform_key_file", "api_v3_key", "notify_url")
WECHAT_API_BASE = "https://api.weixin.qq.com"
WECHAT_PAY_API_BASE = "https://api.mch.weixin.qq.com"


@dataclass(frozen=True, slots=True)
class Rate:
    """A leaky bucket: ``points`` at most, ``per_second`` of them given back each second."""

    points: int
    per_second: float

    @classmethod
    def parse(cls, name: str, raw: str) -> Rate:
        """``"1000/100"``: a bucket of 1,000 points restoring 100 a second."""
        points, slash, per_second = raw.partition("/")
        try:
            rate = cls(int(points), float(per_second))
        except ValueError:
            rate = None
        if not slash or rate is None or rate.points < 1 or not 0 < rate.per_second <= 1_000_000:
            raise SettingsError(f"{name} must be <points>/<restored per second>, e.g. 1000/100, not {raw!r}")
        return rate


@dataclass(frozen=True, slots=True)
class Tracing:
    """Where spans go: OTLP over HTTP (protobuf) to ``endpoint``, and/or printed (``console``).
    Headers, timeout, compression, sampler and batch sizes the SDK reads from the same
    standard variables itself."""

    exporters: tuple[Literal["otlp", "console"], ...] = ("otlp",)
    endpoint: str = DEFAULT_OTLP_TRACES_URL
    service_name: str = "jimu"


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """How outbound webhooks are sent (``JIMU_WEBHOOK_*``)."""

    poll_seconds: float = 1.0  # how often each worker looks for due deliveries; 0: this process sends none
    timeout_seconds: float = 5.0  # one attempt, connecting to the receiver's last byte
    first_retry_seconds: float = 30.0  # the wait after the first failure; it doubles, to an hour at most
    retry_hours: float = 48.0  # retried this long; a subscription failing this long is disabled
    retention_days: float = 7.0  # settled events (and their deliveries) are forgotten after this
    allow_private: bool = True  # deliver to loopback and private networks: never in production (SSRF)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    env: Literal["development", "production"] = "development"
    secret: str = field(default=DEV_SECRET, repr=False)  # secrets are kept out of every repr
    sandbox_pay_secret: str | None = field(default="sandbox-secret", repr=False)
    reservation_ttl_seconds: int = 1800
    sweep_interval_seconds: int = 5
    stale_checkout_seconds: int = 120
    token_ttl_seconds: int = 7 * 24 * 3600
    max_body_bytes: int = 1_048_576
    demo: bool = False
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = field(default=None, repr=False)
    payment_provider: Literal["SANDBOX", "WECHAT_PAY"] = "SANDBOX"
    wechat_pay_mch_id: str | None = None
    wechat_pay_serial_no: str | None = None
    wechat_pay_private_key_file: str | None = None
    wechat_pay_platform_key_file: str | None = None
    wechat_pay_api_v3_key: str | None = field(default=None, repr=False)
    wechat_pay_notify_url: str | None = None
    wechat_api_base: str = WECHAT_API_BASE
    wechat_pay_api_base: str = WECHAT_PAY_API_BASE
    secret_keys: tuple[str, ...] = field(default=(), repr=False)  # JIMU_SECRET_KEY: the first seals shops' secrets, every one opens them
    response_cache_seconds: float = 1.0
    response_cache_bytes: int = 32 * 1024 * 1024
    reference_cache_seconds: float = 1.0
    redis_url: str | None = None
    fast_path: bool = True
    federation: bool = False  # JIMU_FEDERATION: served as an Apollo Federation v2 subgraph too (gateway/federation.py)
    max_query_cost: int = 10_000
    # Automatic persisted queries no shop trusts are forgotten this long after they were
    # registered, and past this many the oldest go: any client may register documents.
    apq_retention_days: float = 7.0
    apq_max_documents: int = 100_000
    trusted_documents: Literal["off", "audit", "require"] = "off"
    secret_key_budget: Rate = Rate(1_000, 100)  # per secret key, unless the shop sets its own
    client_budget: Rate | None = None  # per shopper (else per client address) on publishable keys
    login_limit: Rate = Rate(100, 2.0)  # shopperLogin per client address
    claim_limit: Rate = Rate(20, 0.2)  # couponClaim per shopper
    help_limit: Rate = Rate(20, 0.2)  # assistHelp per shopper
    trusted_proxies: tuple[str, ...] = ()  # addresses or networks whose X-Forwarded-For is believed
    log_format: Literal["json", "text"] = "text"
    log_level: str = "INFO"
    shutdown_grace_seconds: float = 30.0  # how long requests in flight get to finish on SIGTERM
    tracing: Tracing | None = None  # spans exported, from the standard OTEL_* variables; None: off
    revocation_seconds: float = 2.0  # how long a worker may honour a revoked key or token nobody told it of
    metrics_token: str | None = None  # a bearer token /metrics asks for (gateway.metrics_guard)
    metrics_allow: tuple[str, ...] = ()  # networks /metrics answers; unset: loopback, or anywhere with a token
    webhooks: WebhookSettings = WebhookSettings()
    # What one request's reads may spend on merchants' own systems in all, and each write on its
    # own (docs/remote-adapters.md).
    remote_timeout_seconds: float = 0.8

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def answer_extensions(self) -> dict[str, str]:
        """What every GraphQL answer's ``extensions`` carries: outside production, that it is."""
        return {} if self.production else DEVELOPMENT_EXTENSIONS

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """The settings ``environ`` gives; SettingsError naming what is missing or wrong.
        Nothing is assumed about where jimu runs: development's conveniences are unsafe
        anywhere else, so they need JIMU_ENV=development (or the demo) said out loud."""
        demo = environ.get("JIMU_DEMO", "") in ("1", "true", "yes")
        env = environ.get("JIMU_ENV") or ("development" if demo else None)
        if env is None:
            raise SettingsError(WHERE_IT_RUNS)
        if env not in ("development", "production"):
            raise SettingsError(f"JIMU_ENV must be development or production, not {env!r}")
        production = env == "production"
        if production and demo:
            raise SettingsError("the demo's shops have published keys: --demo (JIMU_DEMO) is for development only")
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
            # The deployment's merchant is all or nothing: without it only shops with their own take WeChat Pay.
            missing = [f"JIMU_WECHAT_PAY_{n.upper()}" for n, v in pay.items() if not v]
            merchant = any(v for n, v in pay.items() if n != "notify_url")
            if merchant and (missing or not wechat_id):
                raise SettingsError("WeChat Pay needs JIMU_WECHAT_APP_ID and " + ", ".join(missing or ["..."]))
            if not pay["notify_url"]:
                raise SettingsError("WeChat Pay needs JIMU_WECHAT_PAY_NOTIFY_URL (shops' own merchants are told "
                                    "<it>/<shop handle>)")
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
            demo=demo,
            wechat_app_id=wechat_id or None,
            wechat_app_secret=wechat_secret or None,
            response_cache_seconds=_seconds(environ, "JIMU_RESPONSE_CACHE_SECONDS", 1.0),
            response_cache_bytes=_positive(environ, "JIMU_RESPONSE_CACHE_BYTES", 32 * 1024 * 1024),
            reference_cache_seconds=_seconds(environ, "JIMU_REFERENCE_CACHE_SECONDS", 1.0),
            redis_url=_redis_url(environ.get("JIMU_REDIS_URL") or None),
            fast_path=environ.get("JIMU_FAST_PATH", "1") not in ("0", "false", "no"),
            federation=_flag(environ, "JIMU_FEDERATION"),
            max_query_cost=_positive(environ, "JIMU_MAX_QUERY_COST", 10_000),
            trusted_documents=_choice(environ, "JIMU_TRUSTED_DOCUMENTS", ("off", "audit", "require")),  # type: ignore[arg-type]
            secret_key_budget=_rate(environ, "JIMU_SECRET_KEY_BUDGET") or Rate(1_000, 100),
            client_budget=_rate(environ, "JIMU_CLIENT_BUDGET"),
            login_limit=_rate(environ, "JIMU_LOGIN_LIMIT") or Rate(100, 2.0),
            claim_limit=_rate(environ, "JIMU_CLAIM_LIMIT") or Rate(20, 0.2),
            help_limit=_rate(environ, "JIMU_HELP_LIMIT") or Rate(20, 0.2),
            trusted_proxies=_networks(environ, "JIMU_TRUSTED_PROXIES"),
            log_format=_choice(environ, "JIMU_LOG_FORMAT", ("json", "text") if production else ("text", "json")),  # type: ignore[arg-type]
            log_level=_choice(environ, "JIMU_LOG_LEVEL", ("INFO", "DEBUG", "WARNING", "ERROR"), upper=True),
            shutdown_grace_seconds=_seconds(environ, "JIMU_SHUTDOWN_GRACE_SECONDS", 30.0),
            wechat_api_base=_base_url(environ, "JIMU_WECHAT_API_BASE", WECHAT_API_BASE),
            wechat_pay_api_base=_base_url(environ, "JIMU_WECHAT_PAY_API_BASE", WECHAT_PAY_API_BASE),
            secret_keys=_secret_keys(environ.get("JIMU_SECRET_KEY", "")),
            tracing=_tracing(environ),
            revocation_seconds=_revocation_seconds(environ),
            metrics_token=_metrics_token(environ, production),
            metrics_allow=_networks(environ, "JIMU_METRICS_ALLOW"),
            webhooks=_webhooks(environ, production),
            remote_timeout_seconds=_remote_timeout(environ),
            apq_retention_days=_hours(environ, "JIMU_APQ_RETENTION_DAYS", 7.0),
            apq_max_documents=_positive(environ, "JIMU_APQ_MAX_DOCUMENTS", 100_000),
        )


def _webhooks(environ: Mapping[str, str], production: bool) -> WebhookSettings:
    retry_hours = _hours(environ, "JIMU_WEBHOOK_RETRY_HOURS", 48.0)
    retention_days = _hours(environ, "JIMU_WEBHOOK_RETENTION_DAYS", 7.0)
    if retention_days * 24 < retry_hours:
        raise SettingsError("JIMU_WEBHOOK_RETENTION_DAYS must cover JIMU_WEBHOOK_RETRY_HOURS: an event is kept "
                            "while it may be retried")
    timeout = _seconds(environ, "JIMU_WEBHOOK_TIMEOUT_SECONDS", 5.0)
    if not 0 < timeout <= 60:
        raise SettingsError("JIMU_WEBHOOK_TIMEOUT_SECONDS must be more than 0 and 60 at most")
    first_retry = _seconds(environ, "JIMU_WEBHOOK_FIRST_RETRY_SECONDS", 30.0)
    if first_retry <= 0:
        raise SettingsError("JIMU_WEBHOOK_FIRST_RETRY_SECONDS must be more than 0")
    return WebhookSettings(poll_seconds=_seconds(environ, "JIMU_WEBHOOK_POLL_SECONDS", 1.0), timeout_seconds=timeout,
                           first_retry_seconds=first_retry, retry_hours=retry_hours, retention_days=retention_days,
                           allow_private=not production)


def _remote_timeout(environ: Mapping[str, str]) -> float:
    milliseconds = _number(environ, "JIMU_REMOTE_TIMEOUT_MS", 800, "a number of milliseconds")
    if not 10 <= milliseconds <= 30_000:
        raise SettingsError("JIMU_REMOTE_TIMEOUT_MS must be between 10 and 30000")
    return milliseconds / 1000


def _flag(environ: Mapping[str, str], name: str) -> bool:
    """A switch, off unless set: 1/true/yes on, 0/false/no (or unset) off, anything else refused."""
    raw = environ.get(name, "").strip().lower()
    if raw not in ("", "0", "false", "no", "1", "true", "yes"):
        raise SettingsError(f"{name} must be 1 or 0, not {environ[name]!r}")
    return raw in ("1", "true", "yes")


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
    value = _number(environ, name, default, "a number of seconds")
    if not 0 <= value <= 86_400:
        raise SettingsError(f"{name} must be between 0 and 86400 seconds")
    return value


def _hours(environ: Mapping[str, str], name: str, default: float) -> float:
    """A positive span (hours or days, as the name says), fractions allowed."""
    value = _number(environ, name, default, "a number")
    if not 0 < value <= 10_000:
        raise SettingsError(f"{name} must be more than 0 and 10000 at most")
    return value


def _number(environ: Mapping[str, str], name: str, default: float, what: str) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be {what}, not {raw!r}") from exc


def _revocation_seconds(environ: Mapping[str, str]) -> float:
    value = _seconds(environ, "JIMU_REVOCATION_SECONDS", 2.0)
    if value > 5:
        raise SettingsError("JIMU_REVOCATION_SECONDS must be 5 at most: a revoked key is refused everywhere within 5 s")
    return value


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...], *, upper: bool = False) -> str:
    """One of ``choices``, the first when unset (``upper``: in any case, as the choices are written)."""
    raw = environ.get(name) or choices[0]
    raw = raw.upper() if upper else raw
    if raw not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return raw


def _rate(environ: Mapping[str, str], name: str) -> Rate | None:
    raw = environ.get(name)
    return Rate.parse(name, raw) if raw else None


def _networks(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Addresses or CIDR networks, comma-separated (``10.0.0.0/8,127.0.0.1``)."""
    found = []
    for part in filter(None, (p.strip() for p in environ.get(name, "").split(","))):
        try:
            found.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as exc:
            raise SettingsError(f"{name}: {part!r} is not an address or a network") from exc
    return tuple(found)


def _metrics_token(environ: Mapping[str, str], production: bool) -> str | None:
    token = environ.get("JIMU_METRICS_TOKEN") or None
    if token is not None and (production and len(token) < 16 or not token.isprintable() or " " in token):
        raise SettingsError("JIMU_METRICS_TOKEN must be printable, without spaces, and 16 or more characters in production")
    return token


def _redis_url(url: str | None) -> str | None:
    if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("JIMU_REDIS_URL must be a redis://, rediss:// or unix:// URL")
    return url


def _base_url(environ: Mapping[str, str], name: str, default: str) -> str:
    url = environ.get(name) or default
    if not url.startswith(("https://", "http://")) or len(url) > 200:
        raise SettingsError(f"{name} must be an http(s) URL")
    return url.rstrip("/")


def _secret_keys(raw: str) -> tuple[str, ...]:
    """JIMU_SECRET_KEY: Fernet keys, comma-separated (the first seals, all open)."""
    keys = tuple(filter(None, (part.strip() for part in raw.split(","))))
    for key in keys:
        try:
            ok = len(base64.urlsafe_b64decode(key.encode())) == 32 and len(key) == 44
        except (ValueError, binascii.Error):
            ok = False
        if not ok:
            raise SettingsError("each JIMU_SECRET_KEY entry is 32 url-safe base64 bytes "
                                "(jimu secrets generate-key makes one); entries are comma-separated")
    return keys
def _tracing(environ: Mapping[str, str]) -> Tracing | None:
    """On when OTEL_TRACES_EXPORTER or an OTLP endpoint is set, unless OTEL_SDK_DISABLED=true
    or OTEL_TRACES_EXPORTER=none; off otherwise (the SDK's own default would be on)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    named = tuple(filter(None, (e.strip().lower() for e in environ.get("OTEL_TRACES_EXPORTER", "").split(","))))
    traces_endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    endpoint = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if named == ("none",) or not (named or traces_endpoint or endpoint):
        return None
    exporters = named or ("otlp",)
    if not set(exporters) <= {"otlp", "console"}:
        raise SettingsError(f"OTEL_TRACES_EXPORTER must be otlp, console or none, not {environ['OTEL_TRACES_EXPORTER']!r}")
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    if "otlp" in exporters and protocol not in (None, "", "http/protobuf"):
        raise SettingsError(f"OTLP traces go over http/protobuf here, not {protocol!r}")
    # The base endpoint takes the signal's path; the traces endpoint is used as it is.
    url = traces_endpoint or (f"{endpoint.rstrip('/')}/v1/traces" if endpoint else DEFAULT_OTLP_TRACES_URL)
    if not url.startswith(("http://", "https://")):
        name = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" if traces_endpoint else "OTEL_EXPORTER_OTLP_ENDPOINT"
        raise SettingsError(f"{name} must be an http:// or https:// URL, not {url!r}")
    service = environ.get("OTEL_SERVICE_NAME", "").strip() or "jimu"
    return Tracing(exporters, url, service)  # type: ignore[arg-type]
