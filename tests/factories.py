"""Builders for catalog files, so each test states only what matters to it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def sku(code: str, price: int = 1000, **extra: Any) -> dict[str, Any]:
    return {"code": code, "title": code, "price": price, **extra}


def product(handle: str, title: str | None = None, skus: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "handle": handle,
        "title": title or handle,
        "skus": skus or [sku(handle.upper())],
        **extra,
    }


def catalog(
    handle: str = "shop-a",
    products: list[dict[str, Any]] | None = None,
    keys: tuple[str, str] | None = None,
    **sections: Any,
) -> dict[str, Any]:
    pk, sk = keys or (f"pk_test_{handle}", f"sk_test_{handle}")
    return copy.deepcopy(
        {
            "format": "jimu.catalog/1",
            "shop": {"handle": handle, "name": handle.title(), "keys": {"publishable": pk, "secret": sk}},
            "products": products or [],
            **sections,
        }
    )
