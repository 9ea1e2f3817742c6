"""Deliveries: each side effect of a change (an email to its buyer, a POST to a webhook), one
item per (change, destination), so that a stream record seen twice does nothing twice. A
webhook's deliveries are its delivery log, and those waiting for a retry sit in a sparse index
that the retry schedule reads."""

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.db.base import TableModel, table_meta, utcnow

SENDING = "sending"
DELIVERED = "delivered"
PENDING = "pending"  # a webhook delivery waiting for its next attempt
FAILED = "failed"  # out of attempts
DISABLED = "disabled"  # its webhook answered 410 Gone
DUE = "due"


class DeliveriesByWebhook(GlobalSecondaryIndex["Delivery"]):
    class Meta:
        index_name = "webhook-index"
        projection = AllProjection()

    webhook_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class DueDeliveries(GlobalSecondaryIndex["Delivery"]):
    """Sparse: only deliveries waiting for a retry carry `due`."""

    class Meta:
        index_name = "due-index"
        projection = AllProjection()

    due = UnicodeAttribute(hash_key=True)
    next_attempt_at = UTCDateTimeAttribute(range_key=True)


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
    # Webhook deliveries only.
    webhook_id = UnicodeAttribute(null=True)
    event_id = UnicodeAttribute(null=True)  # the change's event, if any
    payload = JSONAttribute(null=True)  # the exact body every attempt sends
    last_status = NumberAttribute(null=True)  # HTTP status, 0 when no answer came
    next_attempt_at = UTCDateTimeAttribute(null=True)
    due = UnicodeAttribute(null=True)
    # Handed to the side-effects queue, which should have made the attempt by then; until
    # then the retry schedule leaves it alone (after, it hands it over again).
    queued_until = UTCDateTimeAttribute(null=True)

    by_webhook = DeliveriesByWebhook()
    due_index = DueDeliveries()
