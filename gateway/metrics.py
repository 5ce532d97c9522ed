"""The gateway's Prometheus metrics, made from what the request records, the sweep and the cashier tell.

Where the numbers live is prometheus_client's choice, made when it is first
imported, by ``PROMETHEUS_MULTIPROC_DIR``:

- unset (one process, tests): each app has its own ``CollectorRegistry`` and
  metric objects, so many apps in one process each count only their own;
- set (``jimu serve`` sets it for its workers, see ``gateway.metrics_dir``):
  every value is kept in a file per process in that directory, so a process
  must have exactly one object per metric (two would overwrite each other's
  file entries). ``metrics_for`` makes that one set on first use and keeps
  it for the process; a scrape, whichever worker answers it, reads every
  worker's files (``MultiProcessCollector``) and adds them up.

Labels stay few whatever clients send: an operation's name is the client's
choice, so only the first ``MAX_OPERATIONS`` distinct names a process sees get
a series of their own (later ones count as ``(other)``; a nameless operation
is ``(anonymous)``). Error codes are the gateway's own, bounded the same way
in case an upstream invents some.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from adapters.payments.port import Settled
from adapters.webhooks.dispatcher import Dispatched
from gateway.observe import ASSIST_COUPON_GRANTED, COUPON_CLAIMED, Observed
from gateway.sweeper import Swept

METRICS_PATH = "/metrics"
MAX_OPERATIONS = 100
MAX_CODES = 50
ANONYMOUS = "(anonymous)"  # not a GraphQL name, so no operation can be called this
OTHER = "(other)"
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
# The gateway declined to run the operation: the key, the budget, the cost, the document.
REFUSAL_CODES = frozenset({
    "UNAUTHENTICATED", "FORBIDDEN", "THROTTLED", "MAX_COST_EXCEEDED", "BAD_REQUEST",
    "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "PERSISTED_QUERY_NOT_FOUND",
    "PERSISTED_QUERY_HASH_MISMATCH", "PERSISTED_QUERY_NOT_IN_LIST", "QUERY_NOT_IN_SAFELIST",
})
FAILURE_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"})
ROUTES = ("/graphql", "/healthz", "/readyz", "/schema.graphql", "/webhooks/payments/sandbox",
          "/webhooks/payments/wechat", "/playground", "/")
LAST_SWEEP = "jimu_sweep_last_success_timestamp_seconds"
_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_STATEMENTS = (0, 1, 2, 4, 8, 16, 32, 64, 128, 256)


def outcome(status: int, codes: Iterable[str]) -> str:
    """ok, error (answered, with errors), refused (not run: see REFUSAL_CODES, or a 4xx) or failed."""
    codes = set(codes)
    if not 200 <= status < 500 or codes & FAILURE_CODES:
        return "failed"
    if status >= 400 or codes & REFUSAL_CODES:
        return "refused"
    return "error" if codes else "ok"


class Bounded:
    """A label from values someone else chooses: the first ``limit`` distinct ones, then OTHER."""

    def __init__(self, limit: int, pattern: re.Pattern[str]) -> None:
        self._limit = limit
        self._pattern = pattern
        self._seen: set[str] = set()

    def __call__(self, value: str | None) -> str:
        if value is None:
            return ANONYMOUS
        if value in self._seen:
            return value
        if len(self._seen) >= self._limit or not self._pattern.fullmatch(value):
            return OTHER
        self._seen.add(value)
        return value


def route(path: str) -> str:
    if path.startswith("/playground"):
        return "/playground"
    return path if path in ROUTES else OTHER


class Children:
    """A labelled metric's children, looked up once per label set: ``labels()`` takes a lock
    and builds its key on every call, a quarter of a request's counting (36 -> 27 us a request
    in multiprocess mode, measured). The label sets are the bounded ones above."""

    def __init__(self, metric: Counter | Histogram) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def __call__(self, *labels: str) -> Any:
        child = self._children.get(labels)
        if child is None:
            child = self._children[labels] = self._metric.labels(*labels)
        return child


class Metrics:
    """Every metric of one app (one process, with PROMETHEUS_MULTIPROC_DIR) and the listeners that feed them."""

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self._dir = multiprocess_dir
        # Values of a multiprocess process live in its files, read at scrape into a fresh registry.
        self._registry = None if multiprocess_dir else CollectorRegistry()
        self.operations = Bounded(MAX_OPERATIONS, _NAME)
        self.codes = Bounded(MAX_CODES, _CODE)
        r = self._registry
        op = ("operation", "kind", "outcome")
        self.requests = Counter("jimu_graphql_requests", "GraphQL requests answered.", op, registry=r)
        self.duration = Histogram("jimu_graphql_request_duration_seconds", "Time to answer a GraphQL request.",
                                  op, buckets=_SECONDS, registry=r)
        self.errors = Counter("jimu_graphql_errors", "GraphQL errors in answers, by extensions.code.", ("code",),
                              registry=r)
        self.statements = Histogram("jimu_graphql_sql_statements", "SQL statements a GraphQL request ran.",
                                    buckets=_STATEMENTS, registry=r)
        self.cache = Counter("jimu_response_cache_lookups", "Response cache lookups, by result (hit, miss).",
                             ("result",), registry=r)
        self.http = Counter("jimu_http_requests", "HTTP requests answered, by route and status class.",
                            ("route", "status"), registry=r)
        self.sweeps = Counter("jimu_sweeps", "Sweeps run, by outcome (ok, failed).", ("outcome",), registry=r)
        self.sweep_seconds = Histogram("jimu_sweep_duration_seconds", "Time one sweep took.", buckets=_SECONDS,
                                       registry=r)
        self.swept = Counter("jimu_sweep_orders", "Orders the sweep moved, by what it did.", ("action",), registry=r)
        self.last_sweep = Gauge(LAST_SWEEP, "When a sweeper started or last swept without failing (the newest of "
                                "any worker).", multiprocess_mode="max", registry=r)
        self.settled = Counter("jimu_payments_settled", "Payments settled, by method and resulting state.",
                               ("method", "state"), registry=r)
        self.claimed = Counter("jimu_coupons_claimed", "Coupons claimed by shoppers (couponClaim).", registry=r)
        self.granted = Counter("jimu_assist_coupons_granted", "Reward coupons granted to completed assists.",
                               registry=r)
        self.webhook_rounds = Counter("jimu_webhook_rounds", "Rounds of webhook sending, by outcome (ok, failed).",
                                      ("outcome",), registry=r)
        self.webhook_attempts = Counter(
            "jimu_webhook_attempts", "Webhook delivery attempts, by outcome: delivered, failed (tried again later), "
            "given_up (failed for the whole retry window), lost (its claim ran out before it was recorded; sent "
            "again).", ("outcome",), registry=r)
        self.webhooks_delivered = Counter("jimu_webhooks_delivered", "Webhook deliveries delivered, by topic.",
                                          ("topic",), registry=r)
        self.webhook_subscriptions_disabled = Counter(
            "jimu_webhook_subscriptions_disabled", "Webhook subscriptions disabled for failing the whole retry window.",
            registry=r)
        self.workers = Gauge("jimu_workers", "Worker processes serving.", multiprocess_mode="livesum", registry=r)
        self._events = {COUPON_CLAIMED: self.claimed, ASSIST_COUPON_GRANTED: self.granted}
        self._http, self._requests, self._duration = Children(self.http), Children(self.requests), Children(self.duration)
        self._errors, self._cache = Children(self.errors), Children(self.cache)

    # -- listeners --------------------------------------------------------------------------------

    def observe(self, observed: Observed) -> None:
        """A request's record (gateway.observe's listener); /metrics itself is not counted."""
        if observed.path == METRICS_PATH:
            return
        self._http(route(observed.path), f"{observed.status // 100}xx").inc()
        for event in observed.events:
            counter = self._events.get(event)
            if counter is not None:
                counter.inc()
        if observed.path != "/graphql":
            return
        labels = (self.operations(observed.operation), observed.kind or "unknown",
                  outcome(observed.status, observed.codes))
        self._requests(*labels).inc()
        self._duration(*labels).observe(observed.seconds)
        self.statements.observe(observed.statements)
        for code in observed.codes:
            self._errors(self.codes(code)).inc()
        if observed.cache is not None:
            self._cache(observed.cache).inc()

    def on_swept(self, swept: Swept) -> None:
        self.sweeps.labels("failed" if swept.failed else "ok").inc()
        self.sweep_seconds.observe(swept.seconds)
        for action, count in swept.moved.items():
            if count:
                self.swept.labels(action).inc(count)
        if not swept.failed:
            self.last_sweep.set(swept.finished_at)

    def on_dispatched(self, done: Dispatched | None) -> None:
        self.webhook_rounds.labels("failed" if done is None else "ok").inc()
        if done is None:
            return
        for result, count in (("delivered", done.delivered), ("failed", done.failed - done.given_up),
                              ("given_up", done.given_up), ("lost", done.lost)):
            if count:
                self.webhook_attempts.labels(result).inc(count)
        for topic, count in done.topics.items():
            self.webhooks_delivered.labels(topic).inc(count)
        if done.disabled:
            self.webhook_subscriptions_disabled.inc(done.disabled)

    def on_settled(self, settled: Settled) -> None:
        if settled.changed:
            self.settled.labels(settled.payment.method.value, settled.payment.state.value).inc()

    # -- the worker's life ------------------------------------------------------------------------

    def started(self) -> None:
        """The worker serves: it counts as one, and its sweeper as not yet late. A worker
        killed outright never said it stopped: its live gauges are dropped here, as the
        supervisor starts the worker that replaces it."""
        if self._dir is not None:
            for pid in _dead_pids(self._dir):
                mark_process_dead(pid, self._dir)
        self.workers.inc()
        self.last_sweep.set(time.time())

    def stopped(self) -> None:
        if self._dir is None:
            self.workers.dec()
        else:  # its live gauges' file goes; its counters stay, or the totals would drop
            mark_process_dead(os.getpid(), self._dir)

    # -- the scrape -------------------------------------------------------------------------------

    def scrape(self, accept: str = "") -> tuple[bytes, str]:
        """Every metric (every worker's, added up) and the sweep's lag, in the format the
        scraper's ``Accept`` asks for (OpenMetrics or Prometheus text), and its content type."""
        if self._registry is not None:
            source = self._registry
        else:
            source = CollectorRegistry()
            MultiProcessCollector(source, self._dir)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_WithLag(source))
        encode, content_type = choose_encoder(accept)
        return encode(registry), content_type


class _WithLag:
    """The collected metrics and ``jimu_sweep_lag_seconds``: how long since any sweeper
    last swept without failing (or started), computed at the scrape, so it grows while
    the sweep is stuck instead of staying at its last value."""

    def __init__(self, source: CollectorRegistry) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        newest = None
        for family in self._source.collect():
            if family.name == LAST_SWEEP:
                newest = max((s.value for s in family.samples), default=None)
            yield family
        if newest:
            yield GaugeMetricFamily("jimu_sweep_lag_seconds", "Seconds since a sweeper last swept without failing.",
                                    value=max(0.0, time.time() - newest))


def _dead_pids(directory: str) -> set[int]:
    """The processes whose live gauges are in ``directory`` but that are gone."""
    dead = set()
    for path in Path(directory).glob("gauge_live*_*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not _alive(int(pid)):
            dead.add(int(pid))
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


_process: Metrics | None = None


def metrics_for(environ: Mapping[str, str]) -> Metrics:
    """The app's metrics: its own, or with PROMETHEUS_MULTIPROC_DIR the process's one set."""
    global _process
    directory = environ.get("PROMETHEUS_MULTIPROC_DIR") or environ.get("prometheus_multiproc_dir")
    if not directory:
        return Metrics()
    if values.ValueClass is values.MutexValue:
        raise RuntimeError("PROMETHEUS_MULTIPROC_DIR was set after prometheus_client was imported: "
                           "set it before the process starts (jimu serve does)")
    if _process is None:
        _process = Metrics(directory)
    return _process
