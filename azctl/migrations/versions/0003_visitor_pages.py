"""The visitor's pages: a show's poster, and the language a booking was made in.

Revision ID: 0003_visitor_pages
Revises: 0002_outbox_claim
Create Date: 2026-12-02 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_visitor_pages"
down_revision = "0002_outbox_claim"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("show", schema=None) as batch_op:
        batch_op.add_column(sa.Column("poster_image", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("poster_type", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("poster_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("poster_url", sa.String(length=2000), nullable=True))
    with op.batch_alter_table("reservation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reservation", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("show", schema=None) as batch_op:
        batch_op.drop_column("poster_url")
        batch_op.drop_column("poster_hash")
        batch_op.drop_column("poster_type")
        batch_op.drop_column("poster_image")
