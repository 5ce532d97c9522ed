"""Dispatching's rounds: each round's result is told to its listeners (the metrics) whatever the
pruning after it does, and a failure is told as None, never raised."""

from __future__ import annotations

from datetime import timedelta

from adapters.webhooks.dispatcher import Dispatched
from gateway.dispatching import Dispatching


class Dispatcher:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    async def dispatch(self) -> Dispatched:
        if self.fail:
            raise RuntimeError("the database is gone")
        return Dispatched(claimed=2, delivered=2, topics={"ORDERS_CREATE": 2})


class Outbox:
    def __init__(self) -> None:
        self.prunes = 0

    async def prune(self, before, limit: int = 500) -> int:  # type: ignore[no-untyped-def]
        self.prunes += 1
        raise RuntimeError("prune failed")


async def test_a_round_is_told_even_when_pruning_after_it_fails_and_a_failed_round_as_none(caplog):
    told: list[Dispatched | None] = []
    outbox = Outbox()
    dispatcher = Dispatcher()
    dispatching = Dispatching(dispatcher, outbox, 1.0, timedelta(days=7), (told.append,))  # type: ignore[arg-type]
    assert await dispatching.round() == 2
    assert told == [Dispatched(claimed=2, delivered=2, topics={"ORDERS_CREATE": 2})] and outbox.prunes == 1
    assert "pruning settled webhook events failed" in caplog.text
    assert await dispatching.round() == 2 and outbox.prunes == 2  # not pruned: tried again
    dispatcher.fail = True
    assert await dispatching.round() == 0
    assert told[-1] is None and dispatching.rounds == 3
