"""Who may read /metrics, where the workers keep their numbers (and which of them are gone), and the settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.metrics import _dead_pids
from gateway.metrics_dir import ENV, multiprocess_dir
from gateway.metrics_guard import MetricsGuard
from gateway.settings import Settings, SettingsError

TOKEN = "metrics-token-0123456789"


def scope(client: str = "127.0.0.1", **headers: str) -> dict:
    return {"type": "http", "client": (client, 50000),
            "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]}


def status(guard: MetricsGuard, request: dict) -> int:
    refused = guard.refusal(request)
    return 200 if refused is None else refused.status_code


def test_without_a_token_only_loopback_reads():
    guard = MetricsGuard(None, (), ())
    assert [status(guard, scope(c)) for c in ("127.0.0.1", "::1", "::ffff:127.0.0.1", "10.0.0.5", "203.0.113.9")] == [
        200, 200, 200, 403, 403]


def test_a_local_proxy_does_not_make_the_public_local():
    # given a reverse proxy on the same host that jimu was not told to trust
    guard = MetricsGuard(None, (), ())
    # then what it forwards is refused, whatever address it names
    assert status(guard, scope(x_forwarded_for="203.0.113.9")) == 403
    assert status(guard, scope(x_forwarded_for="127.0.0.1")) == 403
    assert status(guard, scope(forwarded="for=203.0.113.9")) == 403
    # and a trusted proxy is believed: the client it names is judged
    trusting = MetricsGuard(None, (), ("127.0.0.1",))
    assert status(trusting, scope(x_forwarded_for="203.0.113.9")) == 403
    assert status(trusting, scope(x_forwarded_for="127.0.0.1")) == 200


def test_the_allowed_networks_replace_loopback():
    guard = MetricsGuard(None, ("10.0.0.0/8",), ())
    assert [status(guard, scope(c)) for c in ("10.1.2.3", "127.0.0.1", "203.0.113.9")] == [200, 403, 403]


def test_with_a_token_the_token_is_asked_for_from_anywhere():
    guard = MetricsGuard(TOKEN, (), ())
    # when asked without it, with a wrong one, another scheme, or the right one
    missing = guard.refusal(scope("203.0.113.9"))
    wrong = guard.refusal(scope("127.0.0.1", authorization="Bearer nope"))
    basic = guard.refusal(scope("203.0.113.9", authorization=f"Basic {TOKEN}"))
    right = guard.refusal(scope("203.0.113.9", authorization=f"Bearer {TOKEN}", x_forwarded_for="198.51.100.1"))
    # then only the right token reads, and the refusals say how to
    assert missing is not None and missing.status_code == 401 and b"JIMU_METRICS_TOKEN" in missing.body
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert wrong is not None and wrong.status_code == 401
    assert basic is not None and basic.status_code == 401
    assert right is None


def test_a_token_and_networks_want_both():
    guard = MetricsGuard(TOKEN, ("10.0.0.0/8",), ())
    assert status(guard, scope("10.0.0.1", authorization=f"Bearer {TOKEN}")) == 200
    assert status(guard, scope("203.0.113.9", authorization=f"Bearer {TOKEN}")) == 403
    assert status(guard, scope("10.0.0.1")) == 401


def test_settings_read_the_token_and_networks():
    settings = Settings.from_env({"JIMU_ENV": "development", "JIMU_METRICS_TOKEN": "t",
                                  "JIMU_METRICS_ALLOW": "10.0.0.0/8, 192.168.1.7"})
    assert settings.metrics_token == "t" and settings.metrics_allow == ("10.0.0.0/8", "192.168.1.7/32")
    assert Settings.from_env({"JIMU_ENV": "development"}).metrics_token is None
    with pytest.raises(SettingsError, match="JIMU_METRICS_ALLOW"):
        Settings.from_env({"JIMU_ENV": "development", "JIMU_METRICS_ALLOW": "everyone"})
    with pytest.raises(SettingsError, match="JIMU_METRICS_TOKEN"):
        Settings.from_env({"JIMU_ENV": "development", "JIMU_METRICS_TOKEN": "two words"})


def test_a_made_directory_is_set_for_the_workers_and_removed_after():
    # given no directory from the operator
    environ: dict[str, str] = {}
    # when a server runs
    with multiprocess_dir(environ) as path:
        (path / "counter_123.db").write_bytes(b"x")
        seen = environ[ENV]
    # then the workers were told a new, empty directory, gone afterwards
    assert seen == str(path) and ENV not in environ and not path.exists()


def test_the_operators_directory_is_emptied_of_last_runs_files_only(tmp_path: Path):
    # given last run's files and a file of the operator's
    for name in ("counter_1.db", "gauge_livesum_1.db", "histogram_2.db", "notes.txt"):
        (tmp_path / name).write_text("x")
    # when a server runs with it
    with multiprocess_dir({ENV: str(tmp_path)}) as path:
        left = sorted(p.name for p in path.iterdir())
    # then only the operator's file is left, and the directory stays
    assert left == ["notes.txt"] and tmp_path.exists()


def test_the_live_gauges_of_a_worker_that_is_gone_are_found(tmp_path: Path):
    # given the live gauge files of this process and of one that has ended
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    for pid in (os.getpid(), ended.pid):
        (tmp_path / f"gauge_livesum_{pid}.db").write_bytes(b"")
    (tmp_path / f"counter_{ended.pid}.db").write_bytes(b"")  # counters are never dropped
    # then only the ended one is dead
    assert _dead_pids(str(tmp_path)) == {ended.pid}
