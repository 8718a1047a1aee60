"""Outbox claims: each claim of a message by a sender carries a random id stored on the row.

Revision ID: 0002_outbox_claim
Revises: 0001
Create Date: 2026-12-02 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_outbox_claim"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_message_claim_id"), ["claim_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_claim_id"))
        batch_op.drop_column("claim_id")
