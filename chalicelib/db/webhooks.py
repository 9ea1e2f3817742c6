"""Webhook subscriptions: an HTTPS endpoint and the change types its owner wants POSTed to it.
Their signing secrets are not stored: each is derived from the deployment's key and the
webhook's id (chalicelib/services/stream/webhooks.py)."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.db.base import TableModel, table_meta, utcnow


class WebhooksByOwner(GlobalSecondaryIndex["Webhook"]):
    class Meta:
        index_name = "owner-index"
        projection = AllProjection()

    owner_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class WebhooksByRole(GlobalSecondaryIndex["Webhook"]):
    """Admins' webhooks hear about everything: found by role, not by whom a change concerns."""

    class Meta:
        index_name = "role-index"
        projection = AllProjection()

    owner_role = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Webhook(TableModel):
    Meta = table_meta("webhooks")

    id = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute()
    owner_role = UnicodeAttribute()
    url = UnicodeAttribute()
    types = UnicodeSetAttribute()
    active = BooleanAttribute(default=True)
    disabled_reason = UnicodeAttribute(null=True)  # e.g. "410 Gone"
    created_at = UTCDateTimeAttribute(default=utcnow)
    # Deliveries in flight to this endpoint, one slot each (db/sending_slots.py): the
    # millisecond its sender's hold runs out, so a crashed sender's slot frees itself.
    sending_0 = NumberAttribute(null=True)
    sending_1 = NumberAttribute(null=True)
    # The circuit breaker (services/stream/webhook_deliveries.py): attempts in a row that got no
    # answer, how often that paused the webhook, and until when.
    unanswered_in_a_row = NumberAttribute(null=True)
    pauses = NumberAttribute(null=True)
    paused_until = UTCDateTimeAttribute(null=True)

    by_owner = WebhooksByOwner()
    by_role = WebhooksByRole()
