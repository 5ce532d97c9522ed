"""Real federation engines, from the npm registry: @apollo/composition, @apollo/gateway and
a second subgraph (@apollo/subgraph), installed with ``npm ci`` from the pinned lock beside
this file into its node_modules (not committed), again only when the lock changes."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

HERE = Path(__file__).parent
NO_REGISTRY = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH", "network")


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """The engines installed; skipped, saying why, where npm cannot reach a registry."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        pytest.skip("federation engines need Node and npm (not found on PATH)")
    lock = (HERE / "package-lock.json").read_bytes()
    stamp = HERE / "node_modules" / ".jimu-lock-sha256"
    digest = hashlib.sha256(lock).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return HERE / "node_modules"
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=HERE,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        said = done.stdout + done.stderr
        if any(sign in said for sign in NO_REGISTRY):
            pytest.skip(f"npm cannot install the federation engines (no registry answers):\n{said[-2000:]}")
        raise RuntimeError(f"npm ci failed:\n{said[-4000:]}")
    stamp.write_text(digest)
    return HERE / "node_modules"


@contextmanager
def node_process(script: str, log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """``node script`` beside this file, up once it prints that it is ready (60 s at most)."""
    node = shutil.which("node")
    assert node is not None
    with log.open("wb") as sink:
        process = subprocess.Popen([node, str(HERE / script)], cwd=HERE, env={**os.environ, **env},
                                   stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "ready at" not in log.read_text(encoding="utf-8"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{script} did not start:\n{log.read_text(encoding='utf-8')[-4000:]}")
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)
