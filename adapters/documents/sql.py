"""SQL implementation of the document store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Text,
    UniqueConstraint,
    and_,
    delete,
    exists,
    or_,
    select,
)
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
_UNTRUSTED = ~exists().where(_TRUSTED.c.sha256 == _DOCUMENTS.c.sha256)
FORGET_BATCH = 1000


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
        gone = await self._forget_up_to(lambda: _DOCUMENTS.c.created_at < registered_before)
        # The cap: what is older than the keep_at_most-th newest untrusted one (by time, then hash).
        [edge] = await self._db.rows(select(_DOCUMENTS.c.created_at, _DOCUMENTS.c.sha256).where(_UNTRUSTED).order_by(
            _DOCUMENTS.c.created_at.desc(), _DOCUMENTS.c.sha256.desc()).offset(keep_at_most).limit(1)) or [None]
        if edge is not None:
            gone += await self._forget_up_to(lambda: or_(
                _DOCUMENTS.c.created_at < edge.created_at,
                and_(_DOCUMENTS.c.created_at == edge.created_at, _DOCUMENTS.c.sha256 <= edge.sha256)))
        return gone

    async def _forget_up_to(self, older: Callable[[], ColumnElement[bool]]) -> int:
        """Untrusted documents matching ``older``, dropped a batch a transaction, so neither database
        holds a long write. A row a push or a registration holds is passed over (SKIP LOCKED on
        PostgreSQL; SQLite's write transactions take turns): it is being made new."""
        gone = 0
        while True:
            async with self._db.write() as session:
                batch = (await session.scalars(select(_DOCUMENTS.c.sha256).where(_UNTRUSTED, older())
                                               .limit(FORGET_BATCH).with_for_update(skip_locked=True))).all()
                if batch:
                    await session.execute(delete(_DOCUMENTS).where(_DOCUMENTS.c.sha256.in_(batch)))
            gone += len(batch)
            if len(batch) < FORGET_BATCH:
                return gone

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
