"""Sold tickets."""

from __future__ import annotations

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.db.base import TableModel, table_meta, utcnow


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

    by_event = TicketsByEvent()
    by_seller = TicketsBySeller()
    by_organizer = TicketsByOrganizer()
    by_buyer = TicketsByBuyer()
