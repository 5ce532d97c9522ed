"""shop remote: where a shop's goods or stock are served by its own systems, and the sealed
secret calls to them are signed with

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import adapters.db

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'shop_remote',
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('goods_url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column('inventory_url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', adapters.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shop.id']),
        sa.PrimaryKeyConstraint('shop_id'),
    )


def downgrade() -> None:
    op.drop_table('shop_remote')
