"""login_failures.pending: attempts are recorded before their password is checked (atomic throttle)

Revision ID: f14b2e8d5c31
Revises: e4a7c2b19f60
Create Date: 2026-12-02 07:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f14b2e8d5c31'
down_revision = 'e4a7c2b19f60'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_column('pending')
