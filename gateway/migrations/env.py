"""Alembic environment: runs on the connection ``gateway.migrate`` hands over."""

from __future__ import annotations

from alembic import context

from gateway.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through gateway.migrate (jimu migrate), which supplies the connection")

# render_as_batch: SQLite can only alter a table by copying it.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
