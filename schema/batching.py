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

from strawberry.types.field import StrawberryField

BatchFn = Callable[..., Awaitable[Sequence[Any]]]
_KEY = "jimu.batch"


def batched(fn: BatchFn) -> dict[str, BatchFn]:
    return {_KEY: fn}


def batch_of(field: StrawberryField) -> BatchFn | None:
    return (field.metadata or {}).get(_KEY)
