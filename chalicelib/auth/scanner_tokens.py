"""Door devices' bearer tokens: `scn_<scanner id>_<256-bit secret>`, opaque and long-lived.

Not JWTs: a door device is set up once, perhaps weeks before its event, and must work until
its organizer revokes it, which deleting its record does at once. Only the secret's SHA-256 is
stored (the secret is random, so no slow hash is needed), and it is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "scn_"
_ID_LENGTH = 32  # chalicelib.db.base.new_id: uuid4 hex


@dataclass(frozen=True)
class ScannerToken:
    scanner_id: str
    secret: str

    def __str__(self) -> str:
        return f"{PREFIX}{self.scanner_id}_{self.secret}"


def new_token(scanner_id: str) -> ScannerToken:
    return ScannerToken(scanner_id=scanner_id, secret=secrets.token_urlsafe(32))


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_scanner_token(token: str) -> bool:
    return token.startswith(PREFIX)


def parse(token: str) -> ScannerToken | None:
    """The token's parts if it is shaped like a scanner token; None otherwise."""
    scanner_id, sep, secret = token.removeprefix(PREFIX).partition("_")
    if not (is_scanner_token(token) and sep and secret and len(scanner_id) == _ID_LENGTH):
        return None
    if not all(c in "0123456789abcdef" for c in scanner_id):
        return None
    return ScannerToken(scanner_id=scanner_id, secret=secret)


def matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_hash)
