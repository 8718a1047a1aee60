"""Opaque tokens: random, typed in Crockford base32, stored only as an HMAC.

The alphabet has digits and uppercase letters only, so a USB scanner types a token right whatever
keyboard layout the door computer has; I, L and O read back as 1, 1 and 0.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from azctl.settings import get_settings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TOKEN_BYTES = 20  # 160 bits
TOKEN_LENGTH = 32  # base32 characters for TOKEN_BYTES
_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_RUNS = re.compile(r"[0-9A-Z]+")


def encode(raw: bytes) -> str:
    number = int.from_bytes(raw, "big")
    length = (len(raw) * 8 + 4) // 5
    return "".join(ALPHABET[(number >> (5 * index)) & 31] for index in reversed(range(length)))


def new_token() -> str:
    return encode(secrets.token_bytes(TOKEN_BYTES))


def hash_token(token: str) -> str:
    """The HMAC-SHA256 of a canonical token; the only form a token is stored in."""
    return hmac.new(get_settings().hmac_key, token.encode(), hashlib.sha256).hexdigest()


def fingerprint(token_hash: str) -> str:
    """A short prefix of a hash: enough to group repeated scans in the log, useless to forge."""
    return token_hash[:12]


def parse_scanned(text: str) -> str | None:
    """The canonical token in what a scanner or a person typed, or None.

    Accepts a bare token or a URL ending in one, in any case, with whitespace around it and
    punctuation mangled by a keyboard layout (`https>&&host&t&TOKEN`) or hyphens inside it. Runs of
    letters and digits are taken from the end until they make one token's length.
    """
    runs = _RUNS.findall(text.upper())
    collected = ""
    while runs and len(collected) < TOKEN_LENGTH:
        collected = runs.pop() + collected
    token = collected.translate(_LOOKALIKES)
    if len(token) != TOKEN_LENGTH or any(char not in ALPHABET for char in token):
        return None
    return token
