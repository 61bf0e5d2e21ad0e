"""records: commitment salt, the registry each record is anchored in, and its on-chain id

Revision ID: f14a3c7e9d21
Revises: f14d7a3c9e21
Create Date: 2026-12-02 07:40:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'f14a3c7e9d21'
down_revision = 'f14d7a3c9e21'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # salt: NULL for records anchored before salting (plain SHA-256). contract_address: NULL until
    # `python -m phr.deploy` moves the deployment to PHRRegistry/2 and fills in the old registry's address
    # (the migration cannot know it). anchor_id: the id the record is anchored under, a fresh one after its
    # first id was taken on chain; existing records are anchored under their own id.
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('salt', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('contract_address', sa.String(length=42), nullable=True))
        batch_op.add_column(sa.Column('anchor_id', sa.String(length=64), nullable=True))
    op.execute("UPDATE records SET anchor_id = id")
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.alter_column('anchor_id', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index('ix_records_anchor_id', ['anchor_id'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_index('ix_records_anchor_id')
        batch_op.drop_column('anchor_id')
        batch_op.drop_column('contract_address')
        batch_op.drop_column('salt')
