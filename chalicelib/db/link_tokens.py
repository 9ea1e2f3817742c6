"""Links emailed to account owners (verify the email, reset the password) and to buyers (open
their tickets), stored only as the SHA-256 of their random token."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.db.base import TableModel, table_meta, utcnow

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose's name, not a secret
BUYER_ACCESS = "buyer_access"


class LinkToken(TableModel):
    Meta = table_meta("link-tokens")

    token_hash = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()  # a buyer's id for BUYER_ACCESS
    # What the link does: a verification link can never reset a password, nor the reverse.
    purpose = UnicodeAttribute(default=VERIFY_EMAIL)
    created_at = UTCDateTimeAttribute(default=utcnow)
    # Expired links are refused by the code; DynamoDB TTL only clears them away later.
    expires_at = TTLAttribute()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_link(subject_id: str, purpose: str, lifetime: timedelta) -> tuple[str, LinkToken]:
    """A 256-bit random token for the email, and the record of its hash for the table."""
    token = secrets.token_urlsafe(32)
    record = LinkToken(
        token_hash=hash_token(token),
        user_id=subject_id,
        purpose=purpose,
        expires_at=utcnow() + lifetime,
    )
    return token, record
