"""The SQLite reader that runs short reads in the event loop's thread (adapters.db)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from adapters.db import _is_sqlite_file, _LoopReader


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "r.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (n INTEGER)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.close()
    return path


def test_each_read_sees_what_was_committed_before_it(tmp_path: Path) -> None:
    path = _file(tmp_path)
    reader = _LoopReader(str(path))
    assert reader.rows("SELECT sum(n) FROM t", []) == [(1,)]
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("INSERT INTO t VALUES (2)")
    assert reader.rows("SELECT sum(n) FROM t", []) == [(3,)]  # no snapshot is held between reads
    writer.close()
    reader.close()


def test_it_never_writes(tmp_path: Path) -> None:
    reader = _LoopReader(str(_file(tmp_path)))
    assert reader.rows("INSERT INTO t VALUES (5)", []) is None  # refused: the caller goes the usual way
    assert reader.rows("SELECT count(*) FROM t", []) == [(1,)]


def test_a_locked_file_answers_none_at_once_instead_of_waiting(tmp_path: Path) -> None:
    path = _file(tmp_path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO t VALUES (7)")
    reader = _LoopReader(str(path))
    assert reader.rows("SELECT count(*) FROM t", []) is None
    holder.execute("COMMIT")
    holder.close()
    assert reader.rows("SELECT count(*) FROM t", []) == [(2,)]  # and it opens again once the lock is gone


@pytest.mark.parametrize(
    ("url", "loop_reader"),
    [
        ("sqlite+aiosqlite:////tmp/x.db", True),
        ("sqlite+aiosqlite:///x.db", True),
        ("sqlite+aiosqlite:///file:x.db?mode=memory&uri=true", False),
        ("sqlite+aiosqlite://", False),
        ("sqlite+aiosqlite:///:memory:", False),
        ("postgresql+asyncpg://postgres@127.0.0.1:5432/test", False),
    ],
)
def test_only_a_sqlite_file_is_read_in_the_loop(url: str, loop_reader: bool) -> None:
    assert _is_sqlite_file(make_url(url)) is loop_reader
