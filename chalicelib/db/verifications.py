"""Email verification links, stored only as the SHA-256 of their random token."""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.db.base import TableModel, table_meta, utcnow


class VerificationToken(TableModel):
    Meta = table_meta("verifications")

    token_hash = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default=utcnow)
    # Expired links are refused by the code; DynamoDB TTL only clears them away later.
    expires_at = TTLAttribute()
