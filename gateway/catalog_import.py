"""Reading a catalog file and importing it: shared by ``jimu import`` and ``--demo``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from adapters.catalog.format import CatalogFile, CatalogInvalid, parse_catalog
from adapters.catalog.port import CatalogConflict, CatalogStore, ImportReport
from adapters.db import utcnow


class ImportFailed(Exception):
    """Nothing was written; ``problems`` lists (file, path, reason) for each fault."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def read_catalog(path: Path) -> CatalogFile:
    name = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
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


async def import_catalog(
    store: CatalogStore, path: Path, catalog: CatalogFile, progress: Callable[[], None] | None = None
) -> ImportReport:
    try:
        return await store.apply(catalog, utcnow(), progress)
    except CatalogConflict as exc:
        raise ImportFailed([(str(path), exc.path, exc.reason)]) from exc
