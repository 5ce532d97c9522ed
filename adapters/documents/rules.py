"""Pure rules for persisted documents: hashes, ids and the two manifest formats."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
MAX_ID = 200  # characters of a document id (Apollo's are 64, Relay's 32)
MAX_NAME = 200  # characters of an operation name kept for the list
APOLLO_FORMAT = "apollo-persisted-query-manifest"


def sha256_of(document: str) -> str:
    """The hash Apollo's clients send: SHA-256 of the document's UTF-8 text, lowercase hex."""
    return hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()


def id_problem(value: object) -> str | None:
    """Why this cannot be a document id, or None."""
    if not isinstance(value, str):
        return "the id must be a string"
    if not 1 <= len(value) <= MAX_ID:
        return f"the id must be 1 to {MAX_ID} characters"
    if not value.isprintable() or value != value.strip():
        return "the id must be printable, without spaces around it"
    return None


@dataclass(frozen=True, slots=True)
class Entry:
    """A manifest entry as written: where it is in the file, its id, document and name."""

    at: str  # ``operations[3]`` (Apollo) or the id itself (Relay)
    id: object
    document: object
    name: object = None


class NotAManifest(ValueError):
    pass


def manifest_entries(value: Any) -> list[Entry]:
    """The entries of an Apollo persisted-query manifest
    (``{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [...]}``) or a
    Relay map (``{"<id>": "<document>"}``); ``NotAManifest`` for anything else."""
    if not isinstance(value, dict):
        raise NotAManifest("a manifest is a JSON object")
    if "format" in value:
        if value["format"] != APOLLO_FORMAT or value.get("version") != 1:
            raise NotAManifest(f'an Apollo manifest has "format": "{APOLLO_FORMAT}" and "version": 1')
        operations = value.get("operations")
        if not isinstance(operations, list):
            raise NotAManifest('an Apollo manifest has an "operations" list')
        entries = []
        for index, operation in enumerate(operations):
            at = f"operations[{index}]"
            if not isinstance(operation, dict):
                entries.append(Entry(at, None, None))
                continue
            entries.append(Entry(at, operation.get("id"), operation.get("body"), operation.get("name")))
        return entries
    if not all(isinstance(document, str) for document in value.values()):
        raise NotAManifest('neither an Apollo manifest ("format": ...) nor a Relay map of id to document')
    return [Entry(key, key, document) for key, document in value.items()]
