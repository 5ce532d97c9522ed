"""``webhook_receiver``: a merchant's endpoint as a real process (tests/webhook_receiver.py), for any test.

    receiver = webhook_receiver(fail_first=2)
    ... deliver to receiver.url ...
    [first, *_] = receiver.wait_for(3)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.concurrency.conftest import free_port, wait_until_up

SECRET = "whsec_test-receiver"


@dataclass
class Receiver:
    url: str  # where deliveries go: http://127.0.0.1:P/hooks
    base: str
    secret: str
    log: Path
    process: subprocess.Popen

    def requests(self) -> list[dict[str, Any]]:
        """What arrived so far, one dict a request, in order."""
        if not self.log.exists():
            return []
        text = self.log.read_text(encoding="utf-8")
        # A line being written as we read is left for the next read.
        complete = text[: text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.strip()]

    def wait_for(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The first ``n`` requests once they have arrived; fails with what did arrive after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            arrived = self.requests()
            if len(arrived) >= n:
                return arrived[:n]
            if time.monotonic() > deadline:
                pytest.fail(f"{n} requests expected at the receiver within {timeout} s, "
                            f"{len(arrived)} arrived: {arrived}")
            time.sleep(0.05)


@pytest.fixture
def webhook_receiver(tmp_path: Path) -> Iterator[Callable[..., Receiver]]:
    """Starts receivers: ``webhook_receiver(secret=..., fail_first=N, fail_status=500, sleep=S, redirect=URL,
    answer_bytes=N)``; each stops at teardown."""
    started: list[Receiver] = []

    def start(*, secret: str = SECRET, **options: Any) -> Receiver:
        port = free_port()
        log = tmp_path / f"receiver-{port}.jsonl"
        flags = [f"--{name.replace('_', '-')}={value}" for name, value in options.items() if value is not None]
        stderr = tmp_path / f"receiver-{port}.err"
        with stderr.open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.webhook_receiver", f"--port={port}", f"--secret={secret}",
                 f"--log={log}", *flags],
                cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL, stderr=err)
        base = f"http://127.0.0.1:{port}"
        receiver = Receiver(url=f"{base}/hooks", base=base, secret=secret, log=log, process=process)
        started.append(receiver)
        wait_until_up(base, process, lambda: stderr.read_text(errors="replace"), path="/health")
        return receiver

    yield start
    for receiver in started:
        receiver.process.terminate()
        try:
            receiver.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            receiver.process.kill()
            receiver.process.wait(timeout=5)
