"""SQL implementation of the document store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Text, UniqueConstraint, delete, select
from sqlmodel import Field, SQLModel

from adapters.db import Database, UtcDateTime, utcnow
from adapters.documents.port import IdTaken, TrustedDocument, Trusting, TrustReport


class PersistedDocumentRow(SQLModel, table=True):
    __tablename__ = "persisted_document"
    sha256: str = Field(primary_key=True, max_length=64)
    document: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class TrustedDocumentRow(SQLModel, table=True):
    __tablename__ = "trusted_document"
    __table_args__ = (UniqueConstraint("shop_id", "document_id"),)
    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    document_id: str = Field(max_length=200)
    sha256: str = Field(foreign_key="persisted_document.sha256", max_length=64)
    operation_name: str | None = Field(default=None, max_length=200)
    size: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


_DOCUMENTS = PersistedDocumentRow.__table__
_TRUSTED = TrustedDocumentRow.__table__


class SqlDocumentStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def texts(self, hashes: Sequence[str]) -> list[str | None]:
        rows = await self._db.rows(select(_DOCUMENTS.c.sha256, _DOCUMENTS.c.document)
                                   .where(_DOCUMENTS.c.sha256.in_(list(hashes))))
        found = {row.sha256: row.document for row in rows}
        return [found.get(h) for h in hashes]

    async def register(self, sha256: str, document: str) -> None:
        async with self._db.write() as session:
            await session.execute(self._insert_documents(), [{"sha256": sha256, "document": document,
                                                              "created_at": utcnow()}])

    async def forget(self, registered_before: datetime, keep_at_most: int) -> int:
        untrusted = _DOCUMENTS.c.sha256.not_in(select(_TRUSTED.c.sha256))
        newest_first = select(_DOCUMENTS.c.sha256).where(untrusted).order_by(
            _DOCUMENTS.c.created_at.desc(), _DOCUMENTS.c.sha256.desc()).offset(keep_at_most)
        async with self._db.write() as session:
            old = await session.execute(delete(_DOCUMENTS).where(untrusted, _DOCUMENTS.c.created_at < registered_before))
            over = await session.execute(delete(_DOCUMENTS).where(_DOCUMENTS.c.sha256.in_(newest_first)))
        return old.rowcount + over.rowcount  # type: ignore[attr-defined]

    async def trusted(self, shop_id: int) -> list[TrustedDocument]:
        rows = await self._db.rows(
            select(_TRUSTED.c.document_id, _TRUSTED.c.sha256, _TRUSTED.c.operation_name, _TRUSTED.c.size)
            .where(_TRUSTED.c.shop_id == shop_id).order_by(_TRUSTED.c.document_id)
        )
        return [TrustedDocument(row.document_id, row.sha256, row.operation_name, row.size) for row in rows]

    async def trust(self, shop_id: int, documents: Sequence[Trusting]) -> TrustReport:
        unique = list({d.id: d for d in documents}.values())
        wanted = {d.id: d.sha256 for d in unique}
        if not wanted:
            return TrustReport(0, 0)
        now = utcnow()
        ids = list(wanted)
        held = select(_TRUSTED.c.document_id, _TRUSTED.c.sha256).where(
            _TRUSTED.c.shop_id == shop_id, _TRUSTED.c.document_id.in_(ids))
        async with self._db.write() as session:
            before = {row.document_id: row.sha256 for row in (await session.execute(held)).all()}
            await session.execute(self._insert_documents(), [
                {"sha256": d.sha256, "document": d.document, "created_at": now} for d in unique])
            new = [{"shop_id": shop_id, "document_id": d.id, "sha256": d.sha256, "operation_name": d.operation_name,
                    "size": len(d.document), "created_at": now} for d in unique if d.id not in before]
            if new:
                trusting = self._db.insert(_TRUSTED).on_conflict_do_nothing(index_elements=["shop_id", "document_id"])
                await session.execute(trusting, new)
            # read again after the insert: a push racing this one may have taken an id meanwhile
            after = {row.document_id: row.sha256 for row in (await session.execute(held)).all()}
            taken = sorted(i for i, sha in wanted.items() if after.get(i) != sha)
            if taken:
                raise IdTaken(taken)  # rolls the whole push back
        unchanged = sum(1 for i in wanted if i in before)
        return TrustReport(len(wanted) - unchanged, unchanged)

    async def distrust(self, shop_id: int, ids: Sequence[str] | None) -> int:
        stmt = delete(_TRUSTED).where(_TRUSTED.c.shop_id == shop_id)
        if ids is not None:
            stmt = stmt.where(_TRUSTED.c.document_id.in_(list(ids)))
        async with self._db.write() as session:
            result = await session.execute(stmt)
        return int(result.rowcount or 0)

    def _insert_documents(self):  # type: ignore[no-untyped-def]
        """A text stored under its hash, or, where it is stored already, registered again now: so a
        forget racing a push or a registration waits for its row and then finds it new."""
        insert = self._db.insert(_DOCUMENTS)
        return insert.on_conflict_do_update(index_elements=["sha256"],
                                            set_={"created_at": insert.excluded.created_at})
