"""The demo shops: the project's own copy of the two catalog files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEMO_DIR = Path(__file__).parent / "demo"


def demo_files() -> list[Path]:
    return sorted(DEMO_DIR.glob("*.json"))


def demo_keys() -> dict[str, dict[str, str]]:
    """Shop handle -> {"publishable": ..., "secret": ...}, as the demo files give them."""
    keys = {}
    for path in demo_files():
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        keys[data["shop"]["handle"]] = dict(data["shop"].get("keys") or {})
    return keys
