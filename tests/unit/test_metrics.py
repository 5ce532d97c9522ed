"""The metrics' labels, outcomes and what each listener counts, without a server."""

from __future__ import annotations

import time

import pytest

from adapters.db import utcnow
from adapters.payments.port import Kind, Method, Payment, Settled, State
from adapters.webhooks.dispatcher import Dispatched
from gateway.metrics import _NAME as NAME
from gateway.metrics import (
    ANONYMOUS,
    MAX_OPERATIONS,
    OTHER,
    Bounded,
    Metrics,
    outcome,
    route,
)
from gateway.observe import COUPON_CLAIMED, Observed
from gateway.sweeper import Swept
from tests.scrape import names, total


def graphql(operation: str | None = "Shop", status: int = 200, codes: list[str] | None = None, **more) -> Observed:
    return Observed("id", "POST", "/graphql", status=status, seconds=0.02, operation=operation, kind="query",
                    codes=codes or [], **more)


def scraped(metrics: Metrics) -> str:
    body, content_type = metrics.scrape()
    assert content_type.startswith("text/plain")
    return body.decode()


def test_operation_names_are_bounded_to_the_first_ones_seen():
    # given a label that has seen its limit of names
    label = Bounded(3, NAME)
    assert [label(n) for n in ("A", "B", "C")] == ["A", "B", "C"]
    # when more names come
    later = [label("D"), label("A"), label(None), label("not a name!"), label("x" * 101)]
    # then known names keep their series, the rest share one
    assert later == [OTHER, "A", ANONYMOUS, OTHER, OTHER]


def test_a_process_keeps_at_most_max_operations_series():
    # given a client that names every request differently
    metrics = Metrics()
    for n in range(MAX_OPERATIONS + 50):
        metrics.observe(graphql(f"Op{n}"))
    # then the names past the limit are counted, under one label
    text = scraped(metrics)
    assert total(text, "jimu_graphql_requests_total") == MAX_OPERATIONS + 50
    assert total(text, "jimu_graphql_requests_total", operation=OTHER) == 50
    assert total(text, "jimu_graphql_requests_total", operation=f"Op{MAX_OPERATIONS}") == 0


@pytest.mark.parametrize(("status", "codes", "expected"), [
    (200, [], "ok"),
    (200, ["BAD_USER_INPUT"], "error"),
    (200, ["NOT_FOUND", "BAD_USER_INPUT"], "error"),
    (200, ["UNAUTHENTICATED"], "refused"),
    (200, ["GRAPHQL_VALIDATION_FAILED"], "refused"),
    (400, ["BAD_REQUEST"], "refused"),
    (429, ["THROTTLED"], "refused"),
    (413, [], "refused"),
    (200, ["BAD_USER_INPUT", "INTERNAL_SERVER_ERROR"], "failed"),
    (503, ["SERVICE_UNAVAILABLE"], "failed"),
    (500, [], "failed"),
    (0, [], "failed"),  # no answer was started
])
def test_outcomes(status: int, codes: list[str], expected: str):
    assert outcome(status, codes) == expected


def test_routes_are_the_apps_own_or_other():
    assert [route(p) for p in ("/graphql", "/playground/app.js", "/healthz", "/wp-admin.php", "/")] == [
        "/graphql", "/playground", "/healthz", OTHER, "/"]


def test_a_request_record_is_counted_by_operation_outcome_code_cache_and_statements():
    # given a hit, a miss with statements and one refused
    metrics = Metrics()
    metrics.observe(graphql(cache="miss", statements=3))
    metrics.observe(graphql(cache="hit"))
    metrics.observe(graphql(None, codes=["UNAUTHENTICATED"], events=[COUPON_CLAIMED]))
    # when scraped
    text = scraped(metrics)
    # then each shows where it belongs
    assert total(text, "jimu_graphql_requests_total", operation="Shop", kind="query", outcome="ok") == 2
    assert total(text, "jimu_graphql_requests_total", operation=ANONYMOUS, outcome="refused") == 1
    assert total(text, "jimu_graphql_request_duration_seconds_count") == 3
    assert total(text, "jimu_graphql_errors_total", code="UNAUTHENTICATED") == 1
    assert total(text, "jimu_response_cache_lookups_total", result="hit") == 1
    assert total(text, "jimu_response_cache_lookups_total", result="miss") == 1
    assert total(text, "jimu_graphql_sql_statements_sum") == 3
    assert total(text, "jimu_graphql_sql_statements_bucket", le="2.0") == 2
    assert total(text, "jimu_coupons_claimed_total") == 1
    assert total(text, "jimu_http_requests_total", route="/graphql", status="2xx") == 3


def test_metrics_and_other_routes_are_not_graphql_requests():
    # given a scrape, a health check and a webhook
    metrics = Metrics()
    metrics.observe(Observed("a", "GET", "/metrics", status=200))
    metrics.observe(Observed("b", "GET", "/healthz", status=200, statements=1))
    metrics.observe(Observed("c", "POST", "/webhooks/payments/sandbox", status=401))
    # then none is a GraphQL request, and the scrape is not counted at all
    text = scraped(metrics)
    assert total(text, "jimu_graphql_requests_total") == 0
    assert total(text, "jimu_graphql_sql_statements_count") == 0
    assert total(text, "jimu_http_requests_total") == 2
    assert total(text, "jimu_http_requests_total", route="/webhooks/payments/sandbox", status="4xx") == 1


def test_two_apps_in_one_process_count_apart():
    # given two apps' metrics (tests make many apps)
    first, second = Metrics(), Metrics()
    # when only the first sees a request
    first.observe(graphql())
    # then the second has counted nothing
    assert total(scraped(first), "jimu_graphql_requests_total") == 1
    assert total(scraped(second), "jimu_graphql_requests_total") == 0


def test_sweeps_are_counted_and_the_lag_is_since_the_last_good_one():
    # given a worker that started a minute ago, swept well once, then failed
    metrics = Metrics()
    metrics.started()
    metrics.on_swept(Swept(time.time() - 60, 0.01, False, {"expired": 2, "committed": 1, "forfeited": 0}))
    metrics.on_swept(Swept(time.time(), 0.02, True))
    # when scraped
    text = scraped(metrics)
    # then both runs count, the orders moved too, and the lag runs from the good sweep
    assert total(text, "jimu_sweeps_total", outcome="ok") == 1
    assert total(text, "jimu_sweeps_total", outcome="failed") == 1
    assert total(text, "jimu_sweep_orders_total", action="expired") == 2
    assert "forfeited" not in text
    assert 59 <= total(text, "jimu_sweep_lag_seconds") < 70
    assert total(text, "jimu_workers") == 1


def test_no_lag_is_told_before_the_worker_starts():
    assert "jimu_sweep_lag_seconds" not in names(scraped(Metrics()))


def test_only_settlements_that_changed_a_payment_count():
    # given a payment that succeeded, told twice (a replay), and one that failed
    metrics = Metrics()
    paid = Payment(1, 1, "N1", Kind.FULL, Method.SANDBOX, 100, State.SUCCEEDED, utcnow())
    failed = Payment(2, 1, "N2", Kind.FULL, Method.WECHAT_PAY, 100, State.FAILED, utcnow())
    for settled in (Settled(paid, True), Settled(paid, False), Settled(failed, True)):
        metrics.on_settled(settled)
    # then each is counted once, by method and state
    text = scraped(metrics)
    assert total(text, "jimu_payments_settled_total", method="SANDBOX", state="SUCCEEDED") == 1
    assert total(text, "jimu_payments_settled_total", method="WECHAT_PAY", state="FAILED") == 1
    assert total(text, "jimu_payments_settled_total") == 2


def test_webhook_rounds_attempts_topics_and_disablings_are_counted():
    # given a round that delivered three and failed two (one of them given up, its subscription
    # disabled) and lost one, and a round that failed
    metrics = Metrics()
    metrics.on_dispatched(Dispatched(claimed=6, delivered=3, failed=2, given_up=1, disabled=1, lost=1,
                                     topics={"ORDERS_CREATE": 2, "ORDERS_PAID": 1}))
    metrics.on_dispatched(None)
    text = scraped(metrics)
    # then each outcome is counted apart, a given-up attempt not also as failed
    assert total(text, "jimu_webhook_rounds_total", outcome="ok") == 1
    assert total(text, "jimu_webhook_rounds_total", outcome="failed") == 1
    assert [total(text, "jimu_webhook_attempts_total", outcome=o) for o in ("delivered", "failed", "given_up", "lost")] \
        == [3, 1, 1, 1]
    assert total(text, "jimu_webhooks_delivered_total", topic="ORDERS_CREATE") == 2
    assert total(text, "jimu_webhook_subscriptions_disabled_total") == 1


def test_openmetrics_is_answered_to_a_scraper_that_asks_for_it():
    body, content_type = Metrics().scrape("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text") and body.endswith(b"# EOF\n")
