"""In-memory document store for tests: same behaviour as the SQL one, no database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from adapters.db import utcnow
from adapters.documents.port import IdTaken, TrustedDocument, Trusting, TrustReport


class FakeDocumentStore:
    def __init__(self) -> None:
        self.documents: dict[str, str] = {}
        self.registered: dict[str, datetime] = {}
        self.lists: dict[int, dict[str, TrustedDocument]] = {}

    async def texts(self, hashes: Sequence[str]) -> list[str | None]:
        return [self.documents.get(h) for h in hashes]

    async def register(self, sha256: str, document: str) -> None:
        self.documents.setdefault(sha256, document)
        self.registered[sha256] = utcnow()

    async def forget(self, registered_before: datetime, keep_at_most: int) -> int:
        trusted = {d.sha256 for held in self.lists.values() for d in held.values()}
        untrusted = sorted((h for h in self.documents if h not in trusted),
                           key=lambda h: (self.registered[h], h), reverse=True)
        gone = [h for n, h in enumerate(untrusted) if n >= keep_at_most or self.registered[h] < registered_before]
        for h in gone:
            del self.documents[h], self.registered[h]
        return len(gone)

    async def trusted(self, shop_id: int) -> list[TrustedDocument]:
        return sorted(self.lists.get(shop_id, {}).values(), key=lambda d: d.id)

    async def trust(self, shop_id: int, documents: Sequence[Trusting]) -> TrustReport:
        held = self.lists.setdefault(shop_id, {})
        wanted = {d.id: d for d in documents}
        taken = sorted(i for i, d in wanted.items() if i in held and held[i].sha256 != d.sha256)
        if taken:
            raise IdTaken(taken)
        unchanged = sum(1 for i in wanted if i in held)
        for d in wanted.values():
            self.documents.setdefault(d.sha256, d.document)
            self.registered[d.sha256] = utcnow()
            held.setdefault(d.id, TrustedDocument(d.id, d.sha256, d.operation_name, len(d.document)))
        return TrustReport(len(wanted) - unchanged, unchanged)

    async def distrust(self, shop_id: int, ids: Sequence[str] | None) -> int:
        held = self.lists.get(shop_id, {})
        gone = list(held) if ids is None else [i for i in dict.fromkeys(ids) if i in held]
        for i in gone:
            del held[i]
        return len(gone)
