"""The sweep, run in every server process: unpaid orders expire, dead checkouts are undone.

Every worker runs it; each order moves once (conditional updates, ``SKIP
LOCKED``), so several sweepers share the work instead of repeating it.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from adapters.db import utcnow
from adapters.orders.checkout import Checkout

log = logging.getLogger("jimu.sweeper")


async def sweep_forever(checkout: Checkout, interval_seconds: float) -> None:
    while True:
        try:
            report = await checkout.sweep(utcnow())
            if report.expired or report.failed or report.released:
                log.info("sweep: %d expired, %d dead checkouts undone, %d released",
                         len(report.expired), len(report.failed), len(report.released))
        except Exception:  # a database blip must not end the sweeping
            log.exception("sweep failed; trying again in %s s", interval_seconds)
        await asyncio.sleep(interval_seconds)


class Sweeper:
    """Starts the sweep with the app and stops it with the app."""

    def __init__(self, checkout: Checkout, interval_seconds: float) -> None:
        self._checkout = checkout
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(sweep_forever(self._checkout, self._interval))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
