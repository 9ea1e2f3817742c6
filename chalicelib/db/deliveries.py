"""Deliveries: each side effect of a change (an email to its buyer, later a POST to a webhook),
one item per (change, destination), so that a stream record seen twice does nothing twice."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.db.base import TableModel, table_meta, utcnow

SENDING = "sending"
DELIVERED = "delivered"


class Delivery(TableModel):
    Meta = table_meta("deliveries")

    id = UnicodeAttribute(hash_key=True)  # "<change id>:<destination>"
    change_id = UnicodeAttribute()
    destination = UnicodeAttribute()  # "email", or a webhook's id
    type = UnicodeAttribute()  # the change's type
    status = UnicodeAttribute(default=SENDING)
    attempts = NumberAttribute(default=0)
    # While SENDING, nobody else sends it until then (a crashed sender's claim runs out).
    claimed_until = UTCDateTimeAttribute(null=True)
    delivered_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
