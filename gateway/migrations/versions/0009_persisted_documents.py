"""persisted documents: texts by SHA-256 (automatic persisted queries), and each shop's trusted ones

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import adapters.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'persisted_document',
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('document', sa.Text(), nullable=False),
        sa.Column('created_at', adapters.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sha256'),
    )
    op.create_table(
        'trusted_document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('document_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('operation_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('created_at', adapters.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['sha256'], ['persisted_document.sha256']),
        sa.ForeignKeyConstraint(['shop_id'], ['shop.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('shop_id', 'document_id'),
    )


def downgrade() -> None:
    op.drop_table('trusted_document')
    op.drop_table('persisted_document')
