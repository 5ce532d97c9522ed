"""The directory where the workers of one ``jimu serve`` keep their metrics.

prometheus_client's multiprocess mode keeps each worker's values in files in
``PROMETHEUS_MULTIPROC_DIR``, which must be set before any worker imports it and
must start each server run empty (last run's counters would be added in). It
imports nothing of prometheus_client itself: with one worker the app is
imported into this very process, after the directory is set.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
_FILES = ("counter_*.db", "gauge_*.db", "histogram_*.db", "summary_*.db")  # prometheus_client's names


@contextmanager
def multiprocess_dir(environ: MutableMapping[str, str]) -> Iterator[Path]:
    """The operator's directory (``environ[ENV]``) emptied of a previous run's files, or
    else a new temporary one, set in ``environ`` for the workers and removed afterwards."""
    given = environ.get(ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for pattern in _FILES:  # only prometheus_client's files: the directory is the operator's
            for stale in path.glob(pattern):
                stale.unlink(missing_ok=True)
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="jimu-metrics-"))
    environ[ENV] = str(path)
    try:
        yield path
    finally:
        environ.pop(ENV, None)
        shutil.rmtree(path, ignore_errors=True)
