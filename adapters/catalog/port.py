"""Writing a validated catalog file into the capabilities' stores, all or nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Literal, Protocol

from adapters.catalog.entries import CatalogFile
from adapters.goods.port import Product

Outcome = Literal["created", "updated", "unchanged"]
# What one stock line of the file came to: a new row, a row left (at the figure or not),
# a row set (already there or changed), a row that received units.
StockOutcome = Literal["created", "kept", "differing", "set", "changed", "received"]


class StockMode(Enum):
    """What an import does to stock rows that exist already. A row the file names that does
    not exist is created with the file's figure as its on hand, whatever the mode."""

    KEEP = "keep"  # leave them as they are: a re-import never undoes a sale
    SET = "set"  # on hand := the file's figure, refused where it is below what is reserved and sold
    ADD = "add"  # on hand += the file's figure: goods received


@dataclass
class StockReport:
    """What an import did to stock, in rows (and, for ADD, units)."""

    mode: StockMode = StockMode.KEEP
    created: int = 0  # rows that did not exist, now holding the file's figure
    kept: int = 0  # rows left as they are (KEEP; ADD with a figure of 0)
    differing: int = 0  # KEEP: of the kept rows, those whose on hand is not the file's figure
    set: int = 0  # SET: rows whose on hand is the file's figure now
    changed: int = 0  # SET: of those, rows whose on hand was another figure
    received: int = 0  # ADD: rows that existed and received units
    units: int = 0  # ADD: units received in all, new rows included

    def record(self, outcome: StockOutcome, figure: int) -> None:
        if outcome in ("kept", "differing"):
            self.kept += 1
            self.differing += outcome == "differing"
        elif outcome in ("set", "changed"):
            self.set += 1
            self.changed += outcome == "changed"
        else:
            setattr(self, outcome, getattr(self, outcome) + 1)
            self.units += figure if self.mode is StockMode.ADD else 0

    @property
    def wrote(self) -> bool:
        return bool(self.created or self.changed or self.received)


@dataclass
class ImportReport:
    """What an import did, counted per kind of row (``products`` -> outcome -> n), and to stock."""

    shop_handle: str
    counts: dict[str, Counter[Outcome]] = field(default_factory=dict)
    stock: StockReport = field(default_factory=StockReport)

    def record(self, kind: str, outcome: Outcome) -> None:
        self.counts.setdefault(kind, Counter())[outcome] += 1

    @property
    def changed(self) -> bool:
        return self.stock.wrote or any(c["created"] or c["updated"] for c in self.counts.values())


class CatalogConflict(Exception):
    """The file is valid but clashes with what is stored: a key held by another shop, stock
    set below what is reserved and sold. ``problems`` lists (path, reason) for each."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {reason}" for path, reason in problems))
        self.problems = problems

    @property
    def path(self) -> str:
        return self.problems[0][0]

    @property
    def reason(self) -> str:
        return self.problems[0][1]


@dataclass(frozen=True, slots=True)
class Fresh:
    """What a write must create rather than update: a product handle or SKU code named here
    that the shop holds already (or that another writer takes meanwhile) is a conflict at its
    place in the file, decided in the write's own transaction."""

    handles: frozenset[str] = frozenset()
    codes: frozenset[str] = frozenset()


# Edits the file of one stored product (``stored.stored_catalog``) into the file to apply.
Edit = Callable[[dict[str, Any]], dict[str, Any]]


class CatalogStore(Protocol):
    async def apply(
        self,
        catalog: CatalogFile,
        now: datetime,
        progress: Callable[[], None] | None = None,
        *,
        stock: StockMode = StockMode.KEEP,
        fresh: Fresh = Fresh(),
    ) -> ImportReport:
        """Upsert the file by handle/code in one transaction; raises ``CatalogConflict`` with
        every clash, having written nothing. ``stock`` says what happens to stock rows that
        exist already; ``progress`` is called once per product written.
        """
        ...

    async def revise(self, shop_id: int, product_id: int, edit: Edit, now: datetime, *,
                     fresh: Fresh = Fresh()) -> Product | None:
        """Read the product as a file, edit it, check it (``parse_catalog``: raises
        ``CatalogInvalid``) and apply it, all in one transaction holding the product, so that
        two revisions of one product never lose each other's changes. The product as it is
        now, or None when the shop has no such product."""
        ...

    async def archive(self, shop_id: int, product_id: int, at: datetime | None) -> Product | None:
        """Archive the product (``at``) or bring it back (None); an archived product keeps its
        time. None when the shop has no such product."""
        ...
