"""Links emailed to account owners (verify the email, reset the password), stored only as the
SHA-256 of their random token."""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.db.base import TableModel, table_meta, utcnow

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose's name, not a secret


class LinkToken(TableModel):
    Meta = table_meta("link-tokens")

    token_hash = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    # What the link does: a verification link can never reset a password, nor the reverse.
    purpose = UnicodeAttribute(default=VERIFY_EMAIL)
    created_at = UTCDateTimeAttribute(default=utcnow)
    # Expired links are refused by the code; DynamoDB TTL only clears them away later.
    expires_at = TTLAttribute()
