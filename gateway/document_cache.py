"""What a worker holds of the persisted documents: texts by hash, and each shop's trusted list.

The database is the truth, shared by every worker: a text registered through one worker is
found by another on its first miss. A hash names one text for good, so texts are held until
the memory bound pushes them out (least recently used first) and never go stale. A shop's
trusted list does change (``jimu documents push``, ``remove``): it is reference data, held
for the reference cache's seconds and dropped with the rest of the shop's reference data
when the shop is invalidated (at once in every worker with Redis).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from adapters.documents.port import DocumentStore, TrustedDocument
from gateway.reference import ReferenceCache

MAX_HELD_CHARACTERS = 16_000_000  # of document text per worker: a few thousand storefront documents
# A hash sent with its text is registered again (counted as registered now) at most this often by one
# worker: the sweep forgets what was registered longer ago than JIMU_APQ_RETENTION_DAYS, and a text a
# worker serves from its memory would otherwise never be registered again.
REGISTER_AGAIN_SECONDS = 3600.0
MAX_REGISTERED = 10_000


class DocumentTexts:
    """Texts by SHA-256: this worker's memory first, the store on a miss."""

    def __init__(self, store: DocumentStore, max_characters: int = MAX_HELD_CHARACTERS) -> None:
        self._store = store
        self._max = max_characters
        self._size = 0
        self._held: OrderedDict[str, str] = OrderedDict()
        self._registered: dict[str, float] = {}  # hash -> time.monotonic() this worker last registered it

    def holds(self, sha256: str) -> bool:
        return sha256 in self._held

    async def text(self, sha256: str) -> str | None:
        held = self._held.get(sha256)
        if held is not None:
            self._held.move_to_end(sha256)
            return held
        [found] = await self._store.texts([sha256])
        if found is not None:
            self._hold(sha256, found)
        return found

    def registered_lately(self, sha256: str) -> bool:
        at = self._registered.get(sha256)
        return at is not None and time.monotonic() - at < REGISTER_AGAIN_SECONDS

    async def register(self, sha256: str, text: str) -> None:
        await self._store.register(sha256, text)
        if len(self._registered) >= MAX_REGISTERED:
            self._registered.clear()
        self._registered[sha256] = time.monotonic()
        self._hold(sha256, text)

    def _hold(self, sha256: str, text: str) -> None:
        if len(text) > self._max or sha256 in self._held:
            return
        self._held[sha256] = text
        self._size += len(text)
        while self._size > self._max:
            _, gone = self._held.popitem(last=False)
            self._size -= len(gone)


@dataclass(frozen=True, slots=True)
class TrustedList:
    """A shop's trusted documents as a request asks about them: by id, and by hash."""

    by_id: dict[str, TrustedDocument]
    hashes: frozenset[str]

    @classmethod
    def of(cls, documents: list[TrustedDocument]) -> TrustedList:
        return cls({d.id: d for d in documents}, frozenset(d.sha256 for d in documents))


class TrustedLists:
    """Each shop's trusted list, held as reference data."""

    def __init__(self, store: DocumentStore, reference: ReferenceCache) -> None:
        self._store = store
        self._reference = reference

    async def of(self, shop_id: int) -> TrustedList:
        async def load() -> TrustedList:
            return TrustedList.of(await self._store.trusted(shop_id))

        return await self._reference.get("trusted-documents", shop_id, load)
