"""Pure rules of the inventory capability."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from adapters.inventory.port import WantedLine, Warehouse

LOW_STOCK_AT_MOST = 5
EVERYWHERE = "*"
EVERY_SKU = 0  # the sku_id of a shop's own low-stock threshold: ids start at 1


def serves(rules: Iterable[str], region: str | None) -> bool:
    """Whether region rules cover a region code, matching whole leading segments.

    "1" covers "1" and "1_72_2799_0" but not "10"; "*" covers everything; a None
    region (no region asked) is covered by every warehouse.
    """
    if region is None:
        return True
    segments = region.split("_")
    for rule in rules:
        if rule == EVERYWHERE:
            return True
        wanted = rule.split("_")
        if segments[: len(wanted)] == wanted:
            return True
    return False


def serving(warehouses: Sequence[Warehouse], region: str | None) -> tuple[str, ...]:
    """Codes of the warehouses that serve ``region``."""
    return tuple(w.code for w in warehouses if serves(w.regions, region))



def stock_status(quantity: int, sold_on_deposit: bool) -> str:
    if quantity <= 0:
        return "PREORDER" if sold_on_deposit else "OUT_OF_STOCK"
    if quantity <= LOW_STOCK_AT_MOST:
        return "LOW_STOCK"
    return "IN_STOCK"


def merge_lines(lines: Sequence[WantedLine]) -> dict[int, WantedLine]:
    """One line per SKU: two lines of the same SKU count together against its stock."""
    merged: dict[int, WantedLine] = {}
    for line in lines:
        if line.quantity <= 0:
            raise ValueError("a reserved quantity must be positive")
        before = merged.get(line.sku_id)
        total = line.quantity + (before.quantity if before else 0)
        merged[line.sku_id] = WantedLine(line.sku_id, total, line.purchase_limit)
    return dict(sorted(merged.items()))


def allocate(quantity: int, available: Sequence[tuple[str, int]]) -> list[tuple[str, int]] | None:
    """Take ``quantity`` from warehouses in the given order; None when they hold too few."""
    taken = []
    for code, units in available:
        if quantity == 0:
            break
        take = min(quantity, max(units, 0))
        if take:
            taken.append((code, take))
            quantity -= take
    return taken if quantity == 0 else None


def fell_low(before: int, after: int, threshold: int) -> bool:
    """True when a change took a SKU's available units from above its low-stock threshold to
    at or below it: told once a crossing, not at every sale below it."""
    return before > threshold >= after


def threshold_of(sku_id: int, thresholds: dict[int, int]) -> int:
    """The SKU's own threshold, else the shop's, else the LOW_STOCK band's top."""
    return thresholds.get(sku_id, thresholds.get(EVERY_SKU, LOW_STOCK_AT_MOST))
