"""Sold tickets. A cancelled ticket stays as a tombstone (`cancelled_at`), so the door can say
it was cancelled and offline scanners can fetch the event's revoked tickets."""

from __future__ import annotations

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.db.base import TableModel, has_any, table_meta, utcnow


class TicketsByEvent(GlobalSecondaryIndex["Ticket"]):
    class Meta:
        index_name = "event-index"
        projection = AllProjection()

    event_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class TicketsBySeller(GlobalSecondaryIndex["Ticket"]):
    class Meta:
        index_name = "seller-index"
        projection = AllProjection()

    seller_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class TicketsByOrganizer(GlobalSecondaryIndex["Ticket"]):
    class Meta:
        index_name = "organizer-index"
        projection = AllProjection()

    organizer_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class TicketsByBuyer(GlobalSecondaryIndex["Ticket"]):
    class Meta:
        index_name = "buyer-index"
        projection = AllProjection()

    buyer_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class RevokedByEvent(GlobalSecondaryIndex["Ticket"]):
    """Sparse: only cancelled tickets carry `revoked_event_id`, so an event's revoked list
    costs what it returns, however many tickets the event sold."""

    class Meta:
        index_name = "revoked-index"
        projection = KeysOnlyProjection()

    revoked_event_id = UnicodeAttribute(hash_key=True)
    cancelled_at = UTCDateTimeAttribute(range_key=True)


class Holder(MapAttribute):
    """Who holds the ticket, as given with its booking (the buyer record may say otherwise)."""

    name = UnicodeAttribute()
    phone = UnicodeAttribute()


class Ticket(TableModel):
    Meta = table_meta("bookings")

    id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()
    # Copied from the event so an organizer's sales across all their events are one Query.
    organizer_id = UnicodeAttribute()
    buyer_id = UnicodeAttribute()
    holder = Holder(null=True)
    code = UnicodeAttribute()
    # The signed JWS a door scanner reads (chalicelib.auth.ticket_keys); kept as issued, so a
    # key rotation never changes a ticket already sent.
    qr = UnicodeAttribute(null=True)
    price_minor = NumberAttribute()
    currency_code = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default=utcnow)
    cancelled_at = UTCDateTimeAttribute(null=True)
    revoked_event_id = UnicodeAttribute(null=True)  # the event's id, once cancelled

    by_event = TicketsByEvent()
    by_seller = TicketsBySeller()
    by_organizer = TicketsByOrganizer()
    by_buyer = TicketsByBuyer()
    revoked_by_event = RevokedByEvent()

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


LIVE = Ticket.cancelled_at.does_not_exist()


def any_live(index: GlobalSecondaryIndex, key: str) -> bool:
    """Whether the index holds a ticket under `key` that is not cancelled (tombstones are
    skipped a page at a time, not one call each)."""
    return has_any(index.query(key, filter_condition=LIVE, limit=1, page_size=100))
