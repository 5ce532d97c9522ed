"""Which slice of an ordering a page is: Relay's first/after and last/before, for every port.

A window counts ``size`` items from one end of the part of an ordering that lies
strictly between ``after`` and ``before`` (either may be open): from the start for
``first``, from the end for ``last``. The ports fetch one item more than the size at
that end to learn whether there is more beyond it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K")
P = TypeVar("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Window(Generic[P]):
    size: int
    after: P | None = None
    before: P | None = None
    from_end: bool = False  # ``last``: the page ends at ``before`` (or at the end)

    def flags(self, more: bool) -> tuple[bool, bool]:
        """(has_next_page, has_previous_page), given whether the part held ``more`` than
        ``size`` items. A cursor given on a side means an item lies beyond it on that side."""
        if self.from_end:
            return self.before is not None, more or self.after is not None
        return more or self.before is not None, self.after is not None

    def take(self, fetched: Sequence[T]) -> tuple[list[T], bool]:
        """The page out of up to ``size + 1`` items fetched from the window's end (for
        ``last``: fetched in reverse order), in the ordering's order, and whether there was more."""
        page = list(fetched[: self.size])
        if self.from_end:
            page.reverse()
        return page, len(fetched) > self.size


def in_memory(
    items: Sequence[T], key: Callable[[T], K], window: Window[K], *, descending: bool = False
) -> tuple[list[T], bool, bool]:
    """The window of ``items``, held in ``key`` order (descending if so), whose cursors are
    keys: (page, has_next_page, has_previous_page). For the fakes and for short lists."""

    def beyond(a: K, b: K) -> bool:
        return a < b if descending else a > b  # type: ignore[operator]

    inside = [
        item for item in items
        if (window.after is None or beyond(key(item), window.after))
        and (window.before is None or beyond(window.before, key(item)))
    ]
    page, more = window.take(inside[::-1] if window.from_end else inside)
    return (page, *window.flags(more))
