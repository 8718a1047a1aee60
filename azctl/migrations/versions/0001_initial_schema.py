"""Initial schema: catalog, reservations and tokens, check-ins and scan log, staff, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 09:39:43.316824
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "show",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=True),
        sa.Column("description", sa.String(length=10000), nullable=True),
        sa.Column("is_published", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_show")),
        sa.UniqueConstraint("slug", name=op.f("uq_show_slug")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("api_token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'box_office')", name=op.f("ck_staff_role_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("api_token_hash", name=op.f("uq_staff_api_token_hash")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_username")),
    )
    op.create_table(
        "venue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("notes", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venue")),
        sa.UniqueConstraint("slug", name=op.f("uq_venue_slug")),
    )
    op.create_table(
        "performance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("show_id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("room_capacity", sa.Integer(), nullable=False),
        sa.Column("additional_seats", sa.Integer(), nullable=False),
        sa.Column("manually_occupied_seats", sa.Integer(), nullable=False),
        sa.Column("is_booking_enabled", sa.Boolean(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checkin_opens_before_minutes", sa.Integer(), nullable=True),
        sa.Column("checkin_closes_after_minutes", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "additional_seats >= 0", name=op.f("ck_performance_additional_seats_not_negative")
        ),
        sa.CheckConstraint(
            "checkin_closes_after_minutes IS NULL OR checkin_closes_after_minutes >= 0",
            name=op.f("ck_performance_checkin_closes_not_negative"),
        ),
        sa.CheckConstraint(
            "checkin_opens_before_minutes IS NULL OR checkin_opens_before_minutes >= 0",
            name=op.f("ck_performance_checkin_opens_not_negative"),
        ),
        sa.CheckConstraint(
            "manually_occupied_seats <= room_capacity + additional_seats",
            name=op.f("ck_performance_manually_occupied_within_capacity"),
        ),
        sa.CheckConstraint(
            "manually_occupied_seats >= 0",
            name=op.f("ck_performance_manually_occupied_seats_not_negative"),
        ),
        sa.CheckConstraint(
            "room_capacity >= 0", name=op.f("ck_performance_room_capacity_not_negative")
        ),
        sa.ForeignKeyConstraint(["show_id"], ["show.id"], name=op.f("fk_performance_show_id_show")),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venue.id"], name=op.f("fk_performance_venue_id_venue")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance")),
        sa.UniqueConstraint(
            "show_id",
            "venue_id",
            "starts_at",
            name=op.f("uq_performance_show_id_venue_id_starts_at"),
        ),
    )
    with op.batch_alter_table("performance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_performance_show_id"), ["show_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_performance_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_performance_venue_id"), ["venue_id"], unique=False)

    op.create_table(
        "reservation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("performance_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("party_size", sa.Integer(), nullable=False),
        sa.Column("notes", sa.String(length=1000), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("qr_code_generated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'cancelled', 'expired')",
            name=op.f("ck_reservation_status_known"),
        ),
        sa.CheckConstraint("party_size >= 1", name=op.f("ck_reservation_party_size_positive")),
        sa.ForeignKeyConstraint(
            ["performance_id"],
            ["performance.id"],
            name=op.f("fk_reservation_performance_id_performance"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservation")),
        sa.UniqueConstraint("reference", name=op.f("uq_reservation_reference")),
    )
    with op.batch_alter_table("reservation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reservation_performance_id_status"),
            ["performance_id", "status"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_reservation_status_expires_at"), ["status", "expires_at"], unique=False
        )

    op.create_table(
        "check_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=False),
        sa.Column("performance_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["performance_id"],
            ["performance.id"],
            name=op.f("fk_check_in_performance_id_performance"),
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservation.id"],
            name=op.f("fk_check_in_reservation_id_reservation"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_check_in_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_in")),
        sa.UniqueConstraint("reservation_id", name=op.f("uq_check_in_reservation_id")),
    )
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_check_in_performance_id"), ["performance_id"], unique=False
        )

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed')",
            name=op.f("ck_outbox_message_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservation.id"],
            name=op.f("fk_outbox_message_reservation_id_reservation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_message_reservation_id"), ["reservation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_message_status_next_attempt_at"),
            ["status", "next_attempt_at"],
            unique=False,
        )

    op.create_table(
        "reservation_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reservation_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('confirmation', 'check_in', 'cancel')",
            name=op.f("ck_reservation_token_purpose_known"),
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservation.id"],
            name=op.f("fk_reservation_token_reservation_id_reservation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservation_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_reservation_token_token_hash")),
    )
    with op.batch_alter_table("reservation_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reservation_token_reservation_id_purpose"),
            ["reservation_id", "purpose"],
            unique=False,
        )

    op.create_table(
        "scan_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("performance_id", sa.Integer(), nullable=True),
        sa.Column("reservation_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("token_fingerprint", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["performance_id"],
            ["performance.id"],
            name=op.f("fk_scan_log_performance_id_performance"),
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservation.id"],
            name=op.f("fk_scan_log_reservation_id_reservation"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_scan_log_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_log")),
    )
    with op.batch_alter_table("scan_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scan_log_performance_id_scanned_at"),
            ["performance_id", "scanned_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_scan_log_reservation_id"), ["reservation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("scan_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_log_reservation_id"))
        batch_op.drop_index(batch_op.f("ix_scan_log_performance_id_scanned_at"))

    op.drop_table("scan_log")
    with op.batch_alter_table("reservation_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservation_token_reservation_id_purpose"))

    op.drop_table("reservation_token")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_status_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_message_reservation_id"))

    op.drop_table("outbox_message")
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_in_performance_id"))

    op.drop_table("check_in")
    with op.batch_alter_table("reservation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservation_status_expires_at"))
        batch_op.drop_index(batch_op.f("ix_reservation_performance_id_status"))

    op.drop_table("reservation")
    with op.batch_alter_table("performance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_performance_venue_id"))
        batch_op.drop_index(batch_op.f("ix_performance_starts_at"))
        batch_op.drop_index(batch_op.f("ix_performance_show_id"))

    op.drop_table("performance")
    op.drop_table("venue")
    op.drop_table("staff")
    op.drop_table("show")
