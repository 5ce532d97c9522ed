"""The sweep, run in every server process: unpaid orders expire, dead checkouts are undone,
paid orders' stock is committed, and deposits whose balance is overdue are forfeited.

Every worker runs it; each order moves once (conditional updates, ``SKIP
LOCKED``), so several sweepers share the work instead of repeating it. On
shutdown a sweep under way is let finish (within the grace), so that what it
moved is committed, and no new one starts. Once an hour it also forgets the
persisted queries past their retention (``Forgetting``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta

from adapters.db import utcnow
from adapters.documents.port import DocumentStore
from adapters.payments.cashier import Cashier
from gateway.background import Every, let_finish, tell

log = logging.getLogger("jimu.sweeper")
SWEEP_STOP_SECONDS = 10.0  # on shutdown, after uvicorn's grace: how long a sweep under way may take to finish
FORGET_EVERY_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class Forgetting:
    """The persisted queries the sweep forgets: registered longer ago than ``retention``, and the
    oldest past ``keep_at_most`` (docs: README, Persisted and trusted documents)."""

    store: DocumentStore
    retention: timedelta
    keep_at_most: int


@dataclass(frozen=True, slots=True)
class Swept:
    """One sweep, as its listeners (the metrics) are told it."""

    finished_at: float  # time.time()
    seconds: float
    failed: bool
    moved: dict[str, int] = field(default_factory=dict)  # orders, by what the sweep did to them


class Sweeper:
    """Starts the sweep with the app and stops it with the app."""

    def __init__(self, cashier: Cashier, interval_seconds: float,
                 listeners: Sequence[Callable[[Swept], None]] = (), documents: Forgetting | None = None) -> None:
        self._cashier = cashier
        self._interval = interval_seconds
        self._listeners = tuple(listeners)
        self._documents = documents
        self._forgetting = Every(FORGET_EVERY_SECONDS)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.runs = 0  # sweeps finished, failed ones included
        self.failures = 0
        self.last_finished: float | None = None  # time.time() of the last sweep's end

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._sweep_until_stopped())

    async def sweep(self) -> None:
        """One sweep; its failure is logged, not raised (a database blip must not end the sweeping)."""
        started, moved, failed = time.perf_counter(), {}, False
        try:
            report = await self._cashier.checkout.sweep(utcnow())
            money = await self._cashier.sweep(utcnow())
            if report.expired or report.failed or report.released or money.committed or money.forfeited:
                log.info("sweep: %d expired, %d dead checkouts undone, %d released, %d committed, %d forfeited",
                         len(report.expired), len(report.failed), len(report.released), len(money.committed),
                         len(money.forfeited), extra={"jimu": {
                             "expired": len(report.expired), "undone": len(report.failed),
                             "released": len(report.released), "committed": len(money.committed),
                             "forfeited": len(money.forfeited)}})
            moved = {"expired": len(report.expired), "undone": len(report.failed), "released": len(report.released),
                     "committed": len(money.committed), "forfeited": len(money.forfeited)}
        except Exception:
            self.failures += 1
            failed = True
            log.exception("sweep failed; trying again in %s s", self._interval)
        await self._forget_documents()
        self.runs += 1
        self.last_finished = time.time()
        tell(self._listeners, Swept(self.last_finished, time.perf_counter() - started, failed, moved), log,
             "a sweep listener failed")

    async def _forget_documents(self) -> None:
        """Once an hour (the first sweep included): persisted queries past their retention or the cap.
        Its failure is logged and tried again at the next sweep; it is not the orders' sweep failing."""
        forgetting = self._documents
        if forgetting is None or not self._forgetting.due():
            return
        try:
            gone = await forgetting.store.forget(utcnow() - forgetting.retention, forgetting.keep_at_most)
        except Exception:
            log.exception("forgetting persisted queries failed; trying again at the next sweep")
            return
        self._forgetting.taken()
        if gone:
            log.info("persisted queries: %d forgotten", gone, extra={"jimu": {"forgotten": gone}})

    async def _sweep_until_stopped(self) -> None:
        while not self._stopping.is_set():
            await self.sweep()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Let a sweep under way finish (for ``grace_seconds`` at most), then end."""
        if self._task is None:
            return
        self._stopping.set()
        await let_finish(self._task, grace_seconds, log,
                         "the sweep did not finish within %s s; cancelled (its transaction rolls back)")
        self._task = None
        log.info("sweeper stopped after %d sweeps", self.runs, extra={"jimu": {"sweeps": self.runs}})
