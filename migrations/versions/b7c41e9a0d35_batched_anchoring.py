"""batched anchoring: owner signatures, batch queue and batches

Revision ID: b7c41e9a0d35
Revises: c3d9a1f2e0b4
Create Date: 2026-11-25 17:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'b7c41e9a0d35'
down_revision = 'c3d9a1f2e0b4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_signature', sa.LargeBinary(), nullable=True))
    # The platform's own anchorBatch transactions belong to no user.
    with op.batch_alter_table('chain_jobs', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)

    op.create_table('anchor_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('root', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['chain_jobs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('root')
    )
    with op.batch_alter_table('anchor_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_anchor_batches_job_id'), ['job_id'], unique=False)

    op.create_table('batch_members',
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('leaf_index', sa.Integer(), nullable=True),
    sa.Column('merkle_path', sa.Text(), nullable=True),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['anchor_batches.id'], ),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('record_id')
    )
    with op.batch_alter_table('batch_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_members_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_batch_members_queued_at'), ['queued_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('batch_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_members_queued_at'))
        batch_op.drop_index(batch_op.f('ix_batch_members_batch_id'))
    op.drop_table('batch_members')
    with op.batch_alter_table('anchor_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_anchor_batches_job_id'))
    op.drop_table('anchor_batches')
    with op.batch_alter_table('chain_jobs', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_column('owner_signature')
