"""Idempotency records: the first result of a request retried with the same key."""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.db.base import TableModel, table_meta, utcnow


class IdempotencyRecord(TableModel):
    Meta = table_meta("idempotency")

    # The caller's scope and the client's Idempotency-Key, so two callers never share a key.
    key = UnicodeAttribute(hash_key=True)
    # Hash of what the request asked for: the same key with another request is refused.
    fingerprint = UnicodeAttribute()
    # JSON of the outcome, written in the same transaction as the work itself.
    result = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    # DynamoDB deletes expired records itself (TTL), but that can lag by hours: readers
    # treat an expired record as absent.
    expires_at = TTLAttribute()
