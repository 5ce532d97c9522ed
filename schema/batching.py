"""Batch resolvers: a field resolved for a whole level of objects in one call.

A field whose resolver does I/O may declare a batch beside it with
``strawberry.field(metadata=batched(fn))``, where ``fn(context, sources,
**arguments)`` returns one value per source, in order. The field's own
resolver calls the same function with ``[self]``, so the generic executor and
the level-by-level one (``gateway.fastpath``) share one implementation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiodataloader import DataLoader
from strawberry.types.field import StrawberryField

BatchFn = Callable[..., Awaitable[Sequence[Any]]]
_KEY = "jimu.batch"


def batched(fn: BatchFn) -> dict[str, BatchFn]:
    return {_KEY: fn}


def batch_of(field: StrawberryField) -> BatchFn | None:
    return (field.metadata or {}).get(_KEY)


async def load_all(loader: DataLoader[Any, Any], keys: Sequence[Any]) -> list[Any]:
    """One value per key: through the loader's ``load_all`` where it has one (a whole
    level's keys in one batch call, see ``gateway.loaders.BatchLoader``)."""
    take_all = getattr(loader, "load_all", None)
    if take_all is not None:
        return list(await take_all(keys))
    return list(await loader.load_many(list(keys)))
