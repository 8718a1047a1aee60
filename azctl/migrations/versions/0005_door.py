"""The door at several entrances and offline (DESIGN §10): every pass in or out of a door, the
door a check-in and a scan were made at, and which way a scan went.

Every check-in made before this revision becomes its party's one pass in, at the main door, so
"inside now" and the counters per door start right.

Revision ID: 0005_door
Revises: 0004_season
Create Date: 2026-12-02 09:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_door"
down_revision = "0004_season"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "door_pass",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("performance_id", sa.Integer(), nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=True),
        sa.Column("door", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("passed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("nonce", sa.String(length=40), nullable=True),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("conflict", sa.String(length=32), nullable=True),
        sa.CheckConstraint("direction IN ('in', 'out')", name=op.f("ck_door_pass_direction_known")),
        sa.ForeignKeyConstraint(
            ["performance_id"],
            ["performance.id"],
            name=op.f("fk_door_pass_performance_id_performance"),
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservation.id"],
            name=op.f("fk_door_pass_reservation_id_reservation"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_door_pass_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_door_pass")),
        sa.UniqueConstraint("nonce", name=op.f("uq_door_pass_nonce")),
    )
    with op.batch_alter_table("door_pass", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_door_pass_performance_id_forced_door"),
            ["performance_id", "forced", "door"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_door_pass_reservation_id_id"), ["reservation_id", "id"], unique=False
        )

    # The server default fills the rows already there; the models give every new row its door.
    for table in ("check_in", "scan_log"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("door", sa.String(length=40), nullable=False, server_default="main")
            )
    with op.batch_alter_table("scan_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("direction", sa.String(length=3), nullable=False, server_default="in")
        )
    for table, column in (("check_in", "door"), ("scan_log", "door"), ("scan_log", "direction")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, server_default=None)

    op.execute(
        "INSERT INTO door_pass (performance_id, reservation_id, door, direction, passed_at,"
        " recorded_at, staff_id, offline, forced)"
        " SELECT performance_id, reservation_id, door, 'in', checked_in_at, checked_in_at,"
        " staff_id, false, false FROM check_in ORDER BY id"
    )


def downgrade() -> None:
    with op.batch_alter_table("scan_log", schema=None) as batch_op:
        batch_op.drop_column("direction")
        batch_op.drop_column("door")
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.drop_column("door")
    with op.batch_alter_table("door_pass", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_door_pass_reservation_id_id"))
        batch_op.drop_index(batch_op.f("ix_door_pass_performance_id_forced_door"))
    op.drop_table("door_pass")
