"""Reading a catalog file and importing it: shared by ``jimu import`` and ``--demo``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adapters.catalog.entries import CatalogFile
from adapters.catalog.format import CatalogInvalid, parse_catalog
from adapters.catalog.port import (
    CatalogConflict,
    CatalogStore,
    ImportReport,
    StockMode,
    StockReport,
)
from adapters.db import utcnow
from adapters.shop_remotes.port import ShopRemote


class ImportFailed(Exception):
    """Nothing was written; ``problems`` lists (file, path, reason) for each fault."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class _RepeatedKey(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refused when a key repeats: which of two figures for BJ-01 was meant?"""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _RepeatedKey(f"the key {key!r} appears twice in one object: keep one")
        found[key] = value
    return found


def read_catalog(path: Path) -> CatalogFile:
    name = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_object)
    except _RepeatedKey as exc:
        raise ImportFailed([(name, "", str(exc))]) from exc
    except FileNotFoundError as exc:
        raise ImportFailed([(name, "", "no such file")]) from exc
    except UnicodeDecodeError as exc:
        raise ImportFailed([(name, "", "the file is not UTF-8 text")]) from exc
    except json.JSONDecodeError as exc:
        raise ImportFailed([(name, f"line {exc.lineno} column {exc.colno}", f"not JSON: {exc.msg}")]) from exc
    try:
        return parse_catalog(data, utcnow())
    except CatalogInvalid as exc:
        raise ImportFailed([(name, where, why) for where, why in exc.problems]) from exc


def remote_problems(catalog: CatalogFile, remote: ShopRemote | None) -> list[tuple[str, str]]:
    """What the file would write to jimu's database for a shop whose own system serves it instead
    (``jimu shop remote``): its products when the goods are the merchant's, its stock figures
    when the stock is. Written, nothing would show them; refused, the merchant knows why."""
    if remote is None:
        return []
    see = f"(jimu shop remote show {catalog.shop.handle})"
    if remote.goods_url is not None and catalog.products:
        return [("products", f"the shop's goods are served by its own system {see}: leave products (and coupons "
                             "naming SKUs) out of the file, or serve them from jimu again (jimu shop remote clear)")]
    if remote.inventory_url is not None:
        return [(f"products[{n}].skus[{m}].stock", f"the shop's stock is kept by its own system {see}: change it "
                                                   "there, and leave stock out of the file")
                for n, p in enumerate(catalog.products) for m, s in enumerate(p.skus) if any(s.stock.values())]
    return []


async def import_catalog(
    store: CatalogStore,
    path: Path,
    catalog: CatalogFile,
    progress: Callable[[], None] | None = None,
    stock: StockMode = StockMode.KEEP,
    remote: ShopRemote | None = None,
) -> ImportReport:
    """The file imported, all or nothing; ``remote`` is the shop's own systems, where it has them."""
    if problems := remote_problems(catalog, remote):
        raise ImportFailed([(str(path), where, why) for where, why in problems])
    try:
        return await store.apply(catalog, utcnow(), progress, stock=stock)
    except CatalogConflict as exc:
        raise ImportFailed([(str(path), where, why) for where, why in exc.problems]) from exc


def stock_summary(stock: StockReport) -> str:
    """What the import did to stock, in the words ``jimu import`` prints."""
    if not (stock.created or stock.kept or stock.set or stock.received):
        return "stock: none in the file"
    parts = [f"{stock.created} row{'s' if stock.created != 1 else ''} created"] if stock.created else []
    if stock.set:
        parts.append(f"{stock.set} set ({stock.changed} changed)")
    if stock.mode is StockMode.ADD:
        parts += [f"{stock.received} received"] if stock.received else []
        parts.append(f"{stock.units} unit{'s' if stock.units != 1 else ''}")
        parts += [f"{stock.kept} with nothing to receive"] if stock.kept else []
    elif stock.kept:
        kept = f"{stock.kept} kept as they are"
        if stock.differing:
            kept += f" (the file's figure differs for {stock.differing}: use --stock set or --stock add)"
        parts.append(kept)
    return "stock: " + ", ".join(parts)
