"""The sweep, run in every server process: unpaid orders expire, dead checkouts are undone,
paid orders' stock is committed, and deposits whose balance is overdue are forfeited.

Every worker runs it; each order moves once (conditional updates, ``SKIP
LOCKED``), so several sweepers share the work instead of repeating it.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from adapters.db import utcnow
from adapters.payments.cashier import Cashier

log = logging.getLogger("jimu.sweeper")


async def sweep_forever(cashier: Cashier, interval_seconds: float) -> None:
    while True:
        try:
            report = await cashier.checkout.sweep(utcnow())
            money = await cashier.sweep(utcnow())
            if report.expired or report.failed or report.released or money.committed or money.forfeited:
                log.info("sweep: %d expired, %d dead checkouts undone, %d released, %d committed, %d forfeited",
                         len(report.expired), len(report.failed), len(report.released), len(money.committed),
                         len(money.forfeited))
        except Exception:  # a database blip must not end the sweeping
            log.exception("sweep failed; trying again in %s s", interval_seconds)
        await asyncio.sleep(interval_seconds)


class Sweeper:
    """Starts the sweep with the app and stops it with the app."""

    def __init__(self, cashier: Cashier, interval_seconds: float) -> None:
        self._cashier = cashier
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(sweep_forever(self._cashier, self._interval))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
