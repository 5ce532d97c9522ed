"""The window every time taken from outside must fall in: the one rule, for the API's
DateTime inputs and the catalog file's times alike.

A time is stored only if every later read can serve it: a campaign ending in
year 9999 once made each shopper's ``campaign { rules }`` overflow when shown
in China's time, so times are kept between 1970 and 2100, with a real offset.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
MAX_OFFSET = timedelta(hours=14)  # the world's offsets run from -12:00 to +14:00
NEEDS_OFFSET = "a time needs an offset, e.g. 2026-06-18T09:00:00+08:00"


def time_problem(value: datetime) -> str | None:
    """Why ``value`` cannot be taken, or None."""
    offset = value.utcoffset()
    if offset is None:
        return NEEDS_OFFSET
    if abs(offset) > MAX_OFFSET:
        return "a time's offset must be within ±14:00"
    if not EARLIEST <= value < LATEST:
        return "a time must be from 1970-01-01 to 2099-12-31 (UTC)"
    return None
