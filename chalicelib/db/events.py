"""Events put on sale by organizers."""

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

# Every event carries this constant so that one index orders all events by time and
# `GET /events?from=&to=` is a range Query rather than a Scan. Events are written rarely
# compared with bookings, so a single index partition is far from its write limit.
CATALOG = "events"


class EventsByTime(GlobalSecondaryIndex["Event"]):
    class Meta:
        index_name = "time-index"
        projection = AllProjection()

    catalog = UnicodeAttribute(hash_key=True)
    time = UTCDateTimeAttribute(range_key=True)


class EventsByOrganizer(GlobalSecondaryIndex["Event"]):
    class Meta:
        index_name = "organizer-index"
        projection = AllProjection()

    organizer_id = UnicodeAttribute(hash_key=True)
    time = UTCDateTimeAttribute(range_key=True)


class Event(TableModel):
    Meta = table_meta("events")

    id = UnicodeAttribute(hash_key=True)
    title = UnicodeAttribute()
    time = UTCDateTimeAttribute()
    # Money is stored in the currency's minor units, never as a float.
    price_minor = NumberAttribute()
    currency_code = UnicodeAttribute()
    number_of_tickets = NumberAttribute()
    organizer_id = UnicodeAttribute()
    # Who holds a pool of this event (the organizer and each reseller with an allocation),
    # kept in the same transactions that create and delete pools. A page of events then
    # fetches all its pools in one BatchGetItem instead of one Query per event.
    seller_ids = UnicodeSetAttribute(default=set)
    catalog = UnicodeAttribute(default=CATALOG)
    # Until when buyers may cancel their own tickets (seat back to its seller); None: never.
    cancellable_until = UTCDateTimeAttribute(null=True)
    # Its ticket types (chalicelib/db/ticket_types.py); `price_minor` above is the lowest
    # on-sale type's price. Every change of the types bumps `types_version` under a condition
    # on the version it read, so two parallel changes cannot each compute a stale lowest price.
    ticket_type_ids = UnicodeSetAttribute(default=set)
    types_version = NumberAttribute(default=0)
    # "offline": orders are paid outside the API and confirmed at once; "online": an order
    # holds its stock for `hold_minutes` while the buyer pays.
    payment = UnicodeAttribute(default="offline")
    hold_minutes = NumberAttribute(default=15)
    # How long an offer to someone on the waiting list holds its tickets.
    waiting_list_hours = NumberAttribute(default=24)
    # The on-sale queue (services/sales/onsale_queue.py): from `queue_opens_at` on, orders by
    # buyers need an admission, given out in queue order at `queue_admit_per_second`.
    queue_opens_at = UTCDateTimeAttribute(null=True)
    queue_admit_per_second = NumberAttribute(null=True)
    # Sharded stock (services/sales/stock_shards.py): how many shards the organizer asked for,
    # how many shard items exist (every one counts in the event's totals), whether orders take
    # from them now, and the types whose remaining is split into them.
    stock_shards = NumberAttribute(null=True)
    stock_shard_items = NumberAttribute(null=True)
    stock_lane_open = BooleanAttribute(null=True)
    stock_lane_types = UnicodeSetAttribute(null=True)
    # Bumped by every split: an order that read the event before it (a cached read) is refused
    # by the shards of the new lane, whose `lane` is this.
    stock_lane = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    by_time = EventsByTime()
    by_organizer = EventsByOrganizer()
