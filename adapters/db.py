"""The SQL database every SQL adapter shares: engine, sessions, column types.

Reads and writes take separate paths because SQLite needs them to: a write
transaction starts with ``BEGIN IMMEDIATE`` so that two writers queue on the
database lock at BEGIN instead of failing with "database is locked" when a
deferred transaction tries to upgrade; reads stay deferred so they never queue
behind writers (WAL lets them run beside one).

A read of one statement (``rows``) runs in autocommit: no BEGIN, no ROLLBACK, and no pre-ping on
checkout (three round trips a statement on PostgreSQL, measured as the largest
cost after execution itself). A pooled connection the server dropped fails its
statement once; the read is then tried again on a fresh connection.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from typing import Any

import orjson
from sqlalchemy import (
    DateTime,
    Integer,
    String,
    any_,
    bindparam,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import greenlet_spawn

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
    # 1 MiB of page cache a connection, not 2: a worker holds up to 20 connections, and the
    # operating system caches the file anyway.
    "PRAGMA cache_size=-1024",
)


@dataclass(frozen=True, slots=True)
class Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters, in the order the driver takes them


class Database:
    """One engine and the two ways to use it: ``read()`` and ``write()``."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 16, max_overflow: int = 4) -> None:
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        # Rows carry JSON (tags, images, warehouse regions): orjson parses it in C.
        options: dict[str, Any] = {"echo": echo, "json_deserializer": orjson.loads}
        # Sized for a worker's concurrent requests, so that connections stay open: an
        # overflow connection is closed when it comes back, and opening one (TLS
        # negotiation, statements prepared again) cost more than the query it ran.
        # 4 workers stay under PostgreSQL's default 100 connections. (On SQLite a connection
        # is a thread of aiosqlite's: opening one is dearer still.)
        options.update(pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800)
        if self.dialect == "sqlite":
            options["connect_args"] = {"timeout": 30}
        self.engine: AsyncEngine = create_async_engine(url, **options)
        # Told the text of every statement ``driver_rows`` sends (SQLAlchemy's events do not see them).
        self.statement_listeners: list[Callable[[str], None]] = []
        # SQLite's driver never begins on its own (see the hooks), so a read there only
        # has to skip our BEGIN; asking it for AUTOCOMMIT would cost a PRAGMA a checkout.
        reading = {"jimu_read": True} if self.dialect == "sqlite" else {"isolation_level": "AUTOCOMMIT"}
        self._reader = self.engine.execution_options(**reading)
        if self.dialect == "sqlite":
            _install_sqlite_hooks(self.engine)
        self._loop_reader = _LoopReader(parsed.database) if _is_sqlite_file(parsed) else None
        self.traced = False

    def count_statements(self, count: Callable[[], None]) -> None:
        """Call ``count`` for every statement sent, by SQLAlchemy or by ``driver_rows``
        (once per callable, however often it is asked)."""
        if any(getattr(listener, "counts", None) is count for listener in self.statement_listeners):
            return

        def listener(_sql: str) -> None:
            count()

        listener.counts = count  # type: ignore[attr-defined]
        self.statement_listeners.append(listener)
        event.listen(self.engine.sync_engine, "before_cursor_execute", lambda *_: count())

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads that must see one snapshot across statements (a transaction)."""
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            yield session

    async def rows(self, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
        """Rows of one read-only statement, without the ORM's per-object bookkeeping."""
        try:
            return await self._rows(stmt, params)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            return await self._rows(stmt, params)  # the pool dropped the dead connection: once more

    async def _rows(self, stmt: Any, params: dict[str, Any] | None) -> list[Any]:
        async with self._reader.connect() as conn:
            return list((await conn.execute(stmt, params)).all())

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on error."""
        async with self.engine.connect() as conn:
            await conn.execution_options(jimu_write=True)
            async with AsyncSession(bind=conn, expire_on_commit=False) as session:
                async with session.begin():
                    yield session

    def compiled(self, stmt: Any) -> Compiled:
        """A statement compiled once for this database, to run with ``driver_rows``."""
        compiled = stmt.compile(dialect=self.engine.dialect)
        return Compiled(str(compiled), tuple(compiled.positiontup or ()))

    async def driver_rows(self, compiled: Compiled, params: dict[str, Any]) -> list[Any]:
        """Rows of a compiled read, run on the pooled connection's driver itself: for the one
        statement every cold listing sends (stock), SQLAlchemy's execution and result layers
        cost more than the query (0.68 -> 0.30 ms on PostgreSQL, 1.52 -> 0.37 on SQLite,
        where each step of theirs is a hop to aiosqlite's thread). On a SQLite file it runs
        in the loop's own thread (see ``_LoopReader``): keep it for short reads. Rows are
        plain tuples, without type processing: use it for ints and strings."""
        args = [params[name] for name in compiled.names]
        for listener in self.statement_listeners:
            listener(compiled.sql)
        if self._loop_reader is not None:
            rows = self._loop_reader.rows(compiled.sql, args)
            if rows is not None:
                return rows
        for attempt in (1, 2):
            fairy = await self.engine.raw_connection()
            try:
                driver = fairy.driver_connection
                if self.dialect == "postgresql":
                    rows = list(await driver.fetch(compiled.sql, *args))
                else:
                    rows = list(await driver.execute_fetchall(compiled.sql, args))
            except BaseException as exc:
                await greenlet_spawn(fairy.invalidate)  # whatever went wrong, not on this connection again
                if attempt == 1 and _dropped(exc):
                    continue  # a pooled connection the server had closed: once more, on a new one
                raise
            await greenlet_spawn(fairy.close)
            return rows
        raise AssertionError("unreachable")

    def trace(self, tracer_provider: Any) -> None:
        """A span for every statement sent, under whatever span is current (the operation's):
        its text, never its parameters. Called only when tracing is on; off, no hook exists."""
        if self.traced:
            return
        from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
        from opentelemetry.metrics import NoOpMeterProvider

        # The engine's own tracer, not SQLAlchemyInstrumentor: that one is a process-wide
        # singleton that patches create_engine and Engine.connect (a "connect" span a checkout).
        tracer = tracer_provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
        usage = NoOpMeterProvider().get_meter("jimu").create_up_down_counter("db.client.connections.usage")
        EngineTracer(tracer, self.engine.sync_engine, usage)
        # driver_rows sends its statement past SQLAlchemy's events: the same span, made here.
        self.driver_rows = partial(self._traced_driver_rows, tracer)  # type: ignore[method-assign]
        self.traced = True

    async def _traced_driver_rows(self, tracer: Any, compiled: Compiled, params: dict[str, Any]) -> list[Any]:
        from opentelemetry.trace import SpanKind

        name = f"{compiled.sql.split(None, 1)[0]} {self.engine.url.database}"
        attributes = {"db.system": self.dialect, "db.name": self.engine.url.database or "", "db.statement": compiled.sql}
        with tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes):
            return await Database.driver_rows(self, compiled, params)

    def in_list(self, column: Any, name: str, *, text: bool = False) -> Any:
        """``column IN :name`` with the whole list (of ints, or of strings with ``text``)
        bound as ONE parameter (pass ``list_param(values)``): the statement's text is the
        same for any number of values, so it is compiled, and on PostgreSQL prepared, once."""
        if self.dialect == "postgresql":
            return column == any_(bindparam(name, type_=postgresql.ARRAY(String if text else Integer)))
        each = func.json_each(bindparam(name, type_=String)).table_valued("value")
        return column.in_(select(each.c.value))

    def list_param(self, values: Any, *, text: bool = False) -> Any:
        return list(values) if self.dialect == "postgresql" else json.dumps(list(values))

    def insert(self, table: Any) -> Any:
        """An INSERT that knows ``ON CONFLICT`` on either backend."""
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        return dialect_insert(table)

    async def ping(self) -> bool:
        try:
            await self.rows(text("SELECT 1"))
        except Exception:  # any failure to answer means "not healthy"
            return False
        return True

    async def dispose(self) -> None:
        if self._loop_reader is not None:
            self._loop_reader.close()
        await self.engine.dispose()


def _dropped(exc: BaseException) -> bool:
    """Whether the driver says the connection itself is gone (not the statement at fault)."""
    return isinstance(exc, ConnectionError | OSError) or type(exc).__name__ in (
        "ConnectionDoesNotExistError", "InterfaceError", "ConnectionFailureError",
    )


def _is_sqlite_file(url: Any) -> bool:
    database = url.database or ""
    return url.get_backend_name() == "sqlite" and database not in ("", ":memory:") and not database.startswith("file:")


class _LoopReader:
    """A read-only autocommit connection to a SQLite file, used from the event loop's thread
    for short statements. Under WAL a reader neither waits for writers nor holds them up;
    it is told not to wait at all (busy_timeout 0): when the file is busy all the same (a
    WAL recovery), ``rows`` answers None and the caller goes through aiosqlite instead."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def rows(self, sql: str, args: list[Any]) -> list[Any] | None:
        try:
            conn = self._connection()
            return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            self.close()
            return None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():  # a forked worker opens its own
            self._conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA query_only=ON")
            self._conn.execute("PRAGMA busy_timeout=0")
            self._pid = os.getpid()
        return self._conn

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the driver so the "begin" hook below decides it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get("jimu_read", False):
            return  # a read: each statement is its own transaction
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("jimu_write", False) else "BEGIN")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones: values are stored as naive UTC there.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: times are stored in UTC")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
