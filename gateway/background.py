"""What the work a server process does in the background (the sweep, webhook sending) shares:
telling its listeners, steps taken now and then, and ending it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import TypeVar

News = TypeVar("News")


def tell(listeners: Sequence[Callable[[News], None]], news: News, log: logging.Logger, failed: str) -> None:
    """Each listener told ``news``; one that raises is logged (``failed``) and never stops the work."""
    for listener in listeners:
        try:
            listener(news)
        except Exception:
            log.exception(failed)


class Every:
    """A step taken at most once every ``seconds``, the first time at once. It counts as taken only
    once it succeeded (``taken``), so a step that failed is tried again the next time round."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._taken_at: float | None = None  # time.monotonic()

    def due(self) -> bool:
        return self._taken_at is None or time.monotonic() - self._taken_at >= self._seconds

    def taken(self) -> None:
        self._taken_at = time.monotonic()


async def let_finish(task: asyncio.Task[None], grace_seconds: float, log: logging.Logger, cancelled: str) -> None:
    """Wait for ``task`` (told to stop already) for ``grace_seconds`` at most, then cancel it and log
    ``cancelled`` (formatted with the grace): what it was doing rolls back."""
    try:
        await asyncio.wait_for(asyncio.shield(task), grace_seconds)
    except TimeoutError:
        log.warning(cancelled, grace_seconds)
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
