"""The sweep forgets persisted queries: on its first run, then once an hour; a store that fails
to is logged and asked again at the next sweep, and the orders' sweep is not counted as failed."""

from __future__ import annotations

from datetime import datetime, timedelta

from adapters.documents.rules import sha256_of
from gateway.settings import Settings
from gateway.sweeper import FORGET_EVERY_SECONDS, Forgetting, Sweeper
from gateway.wiring import cashier_for, fake_adapters

DOC = "query Q { shop { name } }"


class Counting:
    """A document store's forget, counted (and made to fail when asked)."""

    def __init__(self, store, fail: bool = False) -> None:  # type: ignore[no-untyped-def]
        self.store, self.fail, self.calls = store, fail, []

    async def forget(self, registered_before: datetime, keep_at_most: int) -> int:
        self.calls.append((registered_before, keep_at_most))
        if self.fail:
            raise RuntimeError("the database is gone")
        return await self.store.forget(registered_before, keep_at_most)


async def test_the_first_sweep_forgets_and_the_next_hour_again(monkeypatch):
    settings = Settings()
    adapters = fake_adapters(settings)
    await adapters.documents.register(sha256_of(DOC), DOC)
    counting = Counting(adapters.documents)
    clock = [1000.0]
    monkeypatch.setattr("gateway.sweeper.time.monotonic", lambda: clock[0])
    sweeper = Sweeper(cashier_for(adapters, settings), 1.0, documents=Forgetting(counting, timedelta(0), 7))  # type: ignore[arg-type]
    # when the first sweep runs: what was registered before now is forgotten
    await sweeper.sweep()
    assert len(counting.calls) == 1 and counting.calls[0][1] == 7
    assert await adapters.documents.texts([sha256_of(DOC)]) == [None]
    # then sweeps within the hour do not ask again, the first after it does
    clock[0] += FORGET_EVERY_SECONDS - 1
    await sweeper.sweep()
    assert len(counting.calls) == 1
    clock[0] += 1
    await sweeper.sweep()
    assert len(counting.calls) == 2 and sweeper.failures == 0


async def test_a_store_failing_to_forget_is_logged_and_tried_at_the_next_sweep_not_a_failed_sweep(caplog):
    settings = Settings()
    adapters = fake_adapters(settings)
    failing = Counting(adapters.documents, fail=True)
    sweeper = Sweeper(cashier_for(adapters, settings), 1.0,
                      documents=Forgetting(failing, timedelta(days=7), 10))  # type: ignore[arg-type]
    await sweeper.sweep()
    assert (sweeper.runs, sweeper.failures) == (1, 0)
    assert "forgetting persisted queries failed" in caplog.text
    failing.fail = False
    await sweeper.sweep()
    assert len(failing.calls) == 2  # not an hour later: at once
