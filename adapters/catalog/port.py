"""Writing a validated catalog file into the capabilities' stores, all or nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from adapters.catalog.entries import CatalogFile

Outcome = Literal["created", "updated", "unchanged"]


@dataclass
class ImportReport:
    """What an import did, counted per kind of row (``products`` -> outcome -> n)."""

    shop_handle: str
    counts: dict[str, Counter[Outcome]] = field(default_factory=dict)

    def record(self, kind: str, outcome: Outcome) -> None:
        self.counts.setdefault(kind, Counter())[outcome] += 1

    @property
    def changed(self) -> bool:
        return any(c["created"] or c["updated"] for c in self.counts.values())


class CatalogConflict(Exception):
    """The file is valid but clashes with what is stored (e.g. a key held by another shop)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class CatalogStore(Protocol):
    async def apply(
        self, catalog: CatalogFile, now: datetime, progress: Callable[[], None] | None = None
    ) -> ImportReport:
        """Upsert the file by handle/code in one transaction; raises ``CatalogConflict``.

        ``progress`` is called once per product written.
        """
        ...
