"""Outbound webhooks sent from every server process, beside the sweep.

Each worker polls the outbox every ``JIMU_WEBHOOK_POLL_SECONDS`` (sooner when a
round found a full batch) and prunes settled events once an hour. Claims keep
two workers off one delivery. On shutdown a round under way is let finish
within the grace, so that what it sent is recorded; whatever it could not
record is sent again later (at least once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import timedelta

from adapters.db import utcnow
from adapters.webhooks.dispatcher import BATCH, Dispatched, Dispatcher
from adapters.webhooks.port import Webhooks
from gateway.background import Every, let_finish, tell

log = logging.getLogger("jimu.webhooks")
PRUNE_EVERY_SECONDS = 3600.0


class Dispatching:
    def __init__(self, dispatcher: Dispatcher, outbox: Webhooks, poll_seconds: float, retention: timedelta,
                 listeners: Sequence[Callable[[Dispatched | None], None]] = ()) -> None:
        self._dispatcher = dispatcher
        self._listeners = tuple(listeners)  # told of each round: what it did, or None when it failed
        self._outbox = outbox
        self._poll = poll_seconds
        self._retention = retention
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._pruning = Every(PRUNE_EVERY_SECONDS)
        self.rounds = 0

    def start(self) -> None:
        if self._poll <= 0:
            return  # this process sends nothing: another one does
        self._stopping.clear()
        self._task = asyncio.create_task(self._until_stopped())

    async def round(self) -> int:
        """One round of sending (and pruning when it is time); how many were claimed. Its failure is
        logged, not raised: a database blip must not end the sending."""
        self.rounds += 1
        try:
            done = await self._dispatcher.dispatch()
        except Exception:
            log.exception("webhook dispatch failed; trying again in %s s", self._poll)
            tell(self._listeners, None, log, "a webhook round listener failed")
            return 0
        tell(self._listeners, done, log, "a webhook round listener failed")
        if self._pruning.due():
            try:
                pruned = await self._outbox.prune(utcnow() - self._retention)
            except Exception:
                log.exception("pruning settled webhook events failed; trying again at the next round")
            else:
                self._pruning.taken()
                if pruned:
                    log.info("webhooks: %d settled events forgotten", pruned, extra={"jimu": {"pruned": pruned}})
        return done.claimed

    async def _until_stopped(self) -> None:
        while not self._stopping.is_set():
            if await self.round() >= BATCH:
                continue  # more are waiting: no pause
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._poll)

    async def stop(self, grace_seconds: float) -> None:
        if self._task is None:
            return
        self._stopping.set()
        await let_finish(self._task, grace_seconds, log,
                         "a webhook round did not finish within %s s; cancelled (it is sent again later)")
        self._task = None
