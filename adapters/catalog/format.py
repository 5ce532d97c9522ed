"""Reading a catalog file ``jimu.catalog/1``: every fault of it in one pass, in plain words.

``parse_catalog`` returns the validated file or raises ``CatalogInvalid`` with every
problem found, never only the first: the entries' own faults (``entries``, worded by
``reasons``) and the checks across rows (``checks``) run together, so fixing a type
error never uncovers a duplicate that was there all along. Problems come row by row,
in the order of the file's sections; each path names the value itself
(``products[3].skus[1].code``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from adapters.catalog.checks import cross_checks
from adapters.catalog.entries import CatalogFile
from adapters.catalog.reasons import plain

_SECTIONS = ["", *CatalogFile.model_fields]


class CatalogInvalid(Exception):
    """The file is not a valid catalog; ``problems`` lists (path, reason) for each fault."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the catalog file")
        self.problems = problems


def parse_catalog(data: Any, now: datetime) -> CatalogFile:
    catalog, problems = None, []
    try:
        catalog = CatalogFile.model_validate(data)
    except ValidationError as exc:
        problems = [plain(error) for error in exc.errors()]
    seen = {path for path, _ in problems}
    # One reason a place: a value of the wrong form is not also a dangling reference.
    problems += [(path, why) for path, why in cross_checks(data, now) if path not in seen]
    if catalog is None or problems:
        raise CatalogInvalid(sorted(problems, key=_row_order))
    return catalog


def _row_order(problem: tuple[str, str]) -> tuple[int, list[int]]:
    """Section by section, row by row; within a row, in the order found."""
    path = problem[0]
    section = re.split(r"[.\[]", path, maxsplit=1)[0]
    rank = _SECTIONS.index(section) if section in _SECTIONS else len(_SECTIONS)
    return rank, [int(i) for i in re.findall(r"\[([0-9]+)\]", path)]
