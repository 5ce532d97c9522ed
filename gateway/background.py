"""Ending the work a server process does in the background (the sweep, webhook sending)."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress


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
