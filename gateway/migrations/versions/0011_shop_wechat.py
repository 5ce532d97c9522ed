"""shop wechat: each shop's own mini-program and WeChat Pay merchant, secrets sealed

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import adapters.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'shop_wechat',
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('app_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('app_secret', sa.Text(), nullable=True),
        sa.Column('mch_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('serial_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('private_key', sa.Text(), nullable=True),
        sa.Column('platform_key', sa.Text(), nullable=True),
        sa.Column('api_v3_key', sa.Text(), nullable=True),
        sa.Column('sub_mch_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('sub_app_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', adapters.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shop.id']),
        sa.PrimaryKeyConstraint('shop_id'),
    )


def downgrade() -> None:
    op.drop_table('shop_wechat')
