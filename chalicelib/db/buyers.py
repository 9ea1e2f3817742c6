"""People who bought tickets; they have no account and are unique by email."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.db.base import TableModel, table_meta, utcnow


class Buyer(TableModel):
    Meta = table_meta("buyers")

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    phone = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)
    # Set by each booking of an existing buyer (which changes nothing else here).
    last_booking_at = UTCDateTimeAttribute(null=True)
    # Buyers' own tokens carry it; bumping it ends every session the buyer opened.
    token_version = NumberAttribute(default=0)
