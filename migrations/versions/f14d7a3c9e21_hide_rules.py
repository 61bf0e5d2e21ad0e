"""hide_rules: a patient's sealed hide rules (visit, diagnosis, drug, item), applied to every record

Revision ID: f14d7a3c9e21
Revises: f14b2e8d5c31
Create Date: 2026-12-02 07:40:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = 'f14d7a3c9e21'
down_revision = 'f14b2e8d5c31'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # privacy_tags stays: its rows are in clear and can only be sealed with the patient's key, so each patient's
    # next keyed change of what is hidden folds them into hide rules and deletes them (docs/security.md, item 10).
    op.create_table('hide_rules',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patient_id')
    )


def downgrade() -> None:
    op.drop_table('hide_rules')
