"""Persisted documents: GraphQL documents known by their SHA-256, and each shop's trusted ones.

Two kinds of knowledge, kept apart:

- the documents themselves, content-addressed (one row per SHA-256 of the text), shared by every
  shop: what an automatic persisted query registers and what a trusted manifest brings. A hash
  names one text for good, so a worker may hold a text as long as it likes;
- each shop's trusted list: the ids a client may send as ``documentId`` and the hash each names.
  It changes (``jimu documents push``, ``remove``), so a worker holds it only for a short while.

Errors::

    DocumentError
    └── IdTaken   an id the shop trusts already names another document
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TrustedDocument:
    """One entry of a shop's trusted list, without its text (``DocumentStore.texts`` has it)."""

    id: str
    sha256: str
    operation_name: str | None
    size: int  # characters of the document


@dataclass(frozen=True, slots=True)
class Trusting:
    """A document to trust: what a manifest entry becomes once checked."""

    id: str
    document: str
    sha256: str
    operation_name: str | None


@dataclass(frozen=True, slots=True)
class TrustReport:
    added: int
    unchanged: int


class DocumentError(Exception):
    pass


class IdTaken(DocumentError):
    def __init__(self, ids: Sequence[str]) -> None:
        super().__init__("already trusted with another document: " + ", ".join(ids))
        self.ids = tuple(ids)


class DocumentStore(Protocol):
    """Persisted documents by hash, and the documents each shop trusts."""

    async def texts(self, hashes: Sequence[str]) -> list[str | None]:
        """The document of each hash, in key order; None where none is stored."""
        ...

    async def register(self, sha256: str, document: str) -> None:
        """Store a document under its hash (the caller checked that it is the text's hash);
        a hash stored already keeps its text, whoever stores it at the same time, and counts
        as registered now."""
        ...

    async def forget(self, registered_before: datetime, keep_at_most: int) -> int:
        """Drop the documents no shop trusts that were registered (or registered again) before
        ``registered_before``, and the oldest of the rest past ``keep_at_most``: how many went.
        A client whose hash went is told PERSISTED_QUERY_NOT_FOUND and sends the text again."""
        ...

    async def trusted(self, shop_id: int) -> list[TrustedDocument]:
        """The shop's trusted list, by id."""
        ...

    async def trust(self, shop_id: int, documents: Sequence[Trusting]) -> TrustReport:
        """Add the documents to the shop's list, all or nothing: ``IdTaken`` when an id the
        shop trusts already names another document (remove it first)."""
        ...

    async def distrust(self, shop_id: int, ids: Sequence[str] | None) -> int:
        """Take these ids off the shop's list (every id with None); how many were on it. The
        texts stay: a hash still names its document, the shop just no longer trusts it."""
        ...
