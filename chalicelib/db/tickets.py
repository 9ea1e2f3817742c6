"""Sold tickets, one item per admission (in the table named `bookings`, as it always was). A
cancelled ticket stays as a tombstone (`cancelled_at`), so the door can say it was cancelled
and offline scanners can fetch the event's revoked tickets."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.db import index_parts
from chalicelib.db.base import TableModel, has_any, table_meta, utcnow


class TicketsByEvent(GlobalSecondaryIndex["Ticket"]):
    class Meta:
        index_name = "event-part-index"
        projection = AllProjection()

    event_part = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class TicketsBySeller(GlobalSecondaryIndex["Ticket"]):
    class Meta:
        index_name = "seller-part-index"
        projection = AllProjection()

    seller_part = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class TicketsByOrganizer(GlobalSecondaryIndex["Ticket"]):
    class Meta:
        index_name = "organizer-part-index"
        projection = AllProjection()

    organizer_part = UnicodeAttribute(hash_key=True)
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


class TicketsByCode(GlobalSecondaryIndex["Ticket"]):
    """The door's lookup when a code is typed instead of scanned."""

    class Meta:
        index_name = "code-index"
        projection = KeysOnlyProjection()

    code = UnicodeAttribute(hash_key=True)


class CheckInsByEvent(GlobalSecondaryIndex["Ticket"]):
    """Sparse: only checked-in tickets carry `checked_in_event_id`."""

    class Meta:
        index_name = "checkin-index"
        projection = AllProjection()

    checked_in_event_id = UnicodeAttribute(hash_key=True)
    checked_in_at = UTCDateTimeAttribute(range_key=True)


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
    # The order it was sold in, and its ticket type (name as it was when sold).
    order_id = UnicodeAttribute(null=True)
    ticket_type_id = UnicodeAttribute(null=True)
    ticket_type_name = UnicodeAttribute(null=True)
    code = UnicodeAttribute()
    # The signed JWS a door scanner reads (chalicelib.auth.ticket_keys); kept as issued, so a
    # key rotation never changes a ticket already sent.
    qr = UnicodeAttribute(null=True)
    price_minor = NumberAttribute()
    currency_code = UnicodeAttribute()
    # Its order's stock shard, and whether its type's counts are there (services/sales/stock.py).
    stock_shard = NumberAttribute(null=True)
    stock_shard_type = BooleanAttribute(null=True)
    # Its keys in the event, organizer and seller indexes (db/index_parts.py).
    event_part = UnicodeAttribute(null=True)
    organizer_part = UnicodeAttribute(null=True)
    seller_part = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    cancelled_at = UTCDateTimeAttribute(null=True)
    revoked_event_id = UnicodeAttribute(null=True)  # the event's id, once cancelled
    # At the door: when the holder got in (an offline scan's own time), the event's id again
    # for the sparse check-in index, who scanned, when it was recorded, and the scanner's
    # retry key ("<scanner or user id>:<nonce>") so that a retry gets the first answer.
    checked_in_at = UTCDateTimeAttribute(null=True)
    checked_in_event_id = UnicodeAttribute(null=True)
    checked_in_by = UnicodeAttribute(null=True)
    check_in_recorded_at = UTCDateTimeAttribute(null=True)
    check_in_nonce = UnicodeAttribute(null=True)

    by_event = TicketsByEvent()
    by_seller = TicketsBySeller()
    by_organizer = TicketsByOrganizer()
    by_buyer = TicketsByBuyer()
    revoked_by_event = RevokedByEvent()
    by_code = TicketsByCode()
    check_ins_by_event = CheckInsByEvent()

    def __init__(self, hash_key: Any = None, range_key: Any = None,
                 _user_instantiated: bool = True, **attributes: Any) -> None:  # fmt: skip
        super().__init__(hash_key, range_key, _user_instantiated, **attributes)
        if _user_instantiated:
            index_parts.spread(self)

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def is_checked_in(self) -> bool:
        return self.checked_in_at is not None


LIVE = Ticket.cancelled_at.does_not_exist()


def any_live(index: GlobalSecondaryIndex, key: str) -> bool:
    """Whether the index holds a ticket under `key` that is not cancelled (tombstones are
    skipped a page at a time, not one call each)."""
    return has_any(index.query(key, filter_condition=LIVE, limit=1, page_size=100))
