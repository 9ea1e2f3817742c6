"""Door devices: each may check in one event's tickets with its own bearer token, kept only as
the SHA-256 of its secret. Deleting the item revokes the token on its next request."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.db.base import TableModel, table_meta, utcnow


class ScannersByEvent(GlobalSecondaryIndex["Scanner"]):
    class Meta:
        index_name = "event-index"
        projection = AllProjection()

    event_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Scanner(TableModel):
    Meta = table_meta("scanners")

    id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute()
    name = UnicodeAttribute()
    secret_hash = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default=utcnow)

    by_event = ScannersByEvent()
