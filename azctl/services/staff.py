"""Staff members and their API tokens (shown once, stored only as an HMAC)."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from azctl import db, errors
from azctl.models import Staff, StaffRole, utcnow
from azctl.services import tokens, validation

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def _clean_username(username: str) -> str:
    cleaned = username.strip().lower()
    if not _USERNAME.match(cleaned):
        raise errors.InvalidInput(
            "username", f"username {username!r}: use lowercase letters, digits, '.', '_' or '-'"
        )
    return cleaned


def add_staff(
    session: Session, *, username: str, role: str, display_name: str | None = None
) -> tuple[Staff, str]:
    """A new active staff member and their raw API token, which is never shown again."""
    username = _clean_username(username)
    if role not in set(StaffRole):
        raise errors.InvalidInput("role", f"role must be admin or box_office, got {role!r}")
    name = validation.optional_text("name", display_name, max_length=200) or username
    raw = tokens.new_token()
    with db.write(session):
        if session.exec(select(Staff.id).where(Staff.username == username)).first() is not None:
            raise errors.Conflict(f"staff member {username!r} already exists")
        member = Staff(
            username=username,
            display_name=name,
            role=role,
            api_token_hash=tokens.hash_token(raw),
        )
        session.add(member)
        session.flush()
        return member, raw


def list_staff(session: Session) -> list[Staff]:
    return list(session.exec(select(Staff).order_by(col(Staff.username))))


def get_staff(session: Session, *, username: str) -> Staff:
    member = session.exec(
        select(Staff)
        .where(Staff.username == username.strip().lower())
        .execution_options(populate_existing=True)
    ).first()
    if member is None:
        raise errors.NotFound(f"no staff member {username!r}")
    return member


def active_staff(session: Session, *, username: str) -> Staff:
    """The staff member a door or a command acts as (`--as USERNAME`); disabled ones may not."""
    member = get_staff(session, username=username)
    if not member.is_active:
        raise errors.InvalidState(f"staff member {member.username!r} is disabled")
    return member


def disable_staff(session: Session, *, username: str) -> Staff:
    """Disable a member and void their API token at once."""
    with db.write(session):
        member = get_staff(session, username=username)
        member.is_active = False
        member.api_token_hash = None
        member.updated_at = utcnow()
        return member


def enable_staff(session: Session, *, username: str) -> Staff:
    """Let a disabled member work again. Their API token was voided when they were disabled and
    stays void: `issue_token` gives them a new one."""
    with db.write(session):
        member = get_staff(session, username=username)
        if not member.is_active:
            member.is_active = True
            member.updated_at = utcnow()
        return member


def issue_token(session: Session, *, username: str) -> tuple[Staff, str]:
    """Replace a member's API token (the old one stops working) and return the new raw one."""
    raw = tokens.new_token()
    with db.write(session):
        member = active_staff(session, username=username)
        member.api_token_hash = tokens.hash_token(raw)
        member.updated_at = utcnow()
        return member, raw


def authenticate(session: Session, *, token: str | None) -> Staff:
    """The active staff member a bearer token belongs to."""
    canonical = tokens.parse_scanned(token or "")
    if canonical is None:
        raise errors.Unauthorized("a staff API token is required")
    member = session.exec(
        select(Staff)
        .where(Staff.api_token_hash == tokens.hash_token(canonical))
        .execution_options(populate_existing=True)
    ).first()
    if member is None or not member.is_active:
        raise errors.Unauthorized("this staff API token is not valid")
    return member
