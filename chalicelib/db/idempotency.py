"""Idempotency records: the first answer to a request retried with the same key."""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.db.base import TableModel, table_meta, utcnow

IN_PROGRESS = "in_progress"
COMPLETED = "completed"


class IdempotencyRecord(TableModel):
    Meta = table_meta("idempotency")

    # The caller's scope and the client's Idempotency-Key, so two callers never share a key.
    key = UnicodeAttribute(hash_key=True)
    # Hash of the request body: the same key with another body is a client error.
    fingerprint = UnicodeAttribute()
    status = UnicodeAttribute(default=IN_PROGRESS)
    response_status = NumberAttribute(null=True)
    response_body = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    # DynamoDB deletes expired records itself (TTL); readers must still ignore expired ones,
    # since TTL deletion can lag by hours.
    expires_at = TTLAttribute()
