"""shop keys as records (a hint, a revocation time) and each shopper's token version

Keys made before this have no hint: only their hashes were kept. ``jimu import`` gives
one to each key its file names (it holds the key itself); the others keep none.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import adapters.db

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shop_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hint', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', adapters.db.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('shopper', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_version', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    # Code before 0010 knows no revocation: a revoked key would work again there, so it goes.
    # (Revoked shopper tokens cannot be told apart before 0010 either: JIMU_SECRET must change.)
    op.execute("DELETE FROM shop_key WHERE revoked_at IS NOT NULL")
    with op.batch_alter_table('shopper', schema=None) as batch_op:
        batch_op.drop_column('token_version')
    with op.batch_alter_table('shop_key', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('hint')
