"""Ticket pools: who may sell how many tickets of an event.

Each (event, seller) pair is one item holding that seller's counts; the organizer's own
remaining tickets are a pool like any reseller's. Orders decrement `available` on exactly
one pool with a condition, so a hot event can later be split across several pool items
without changing the API.

The organizer sells any ticket type from its pool. A reseller is given shares per type: its
pool's `types` maps each type id to {share, sold, held, available}, and the pool's own counts
are their sums, so one reseller's order of several types is still one item with a condition
per type.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.db.base import TableModel, table_meta, utcnow


class AllocationsBySeller(GlobalSecondaryIndex["Allocation"]):
    class Meta:
        index_name = "seller-index"
        projection = AllProjection()

    seller_id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)


class Allocation(TableModel):
    Meta = table_meta("allocations")

    event_id = UnicodeAttribute(hash_key=True)
    seller_id = UnicodeAttribute(range_key=True)
    seller_role = UnicodeAttribute()
    number_of_tickets = NumberAttribute(default=0)
    sold = NumberAttribute(default=0)
    # In reserved orders that have not ended yet (see chalicelib/services/sales/orders.py).
    held = NumberAttribute(default=0)
    available = NumberAttribute(default=0)
    # Resellers only: type id -> {"share", "sold", "held", "available", "gross", "refunded"}.
    types = MapAttribute(null=True)
    # Of `sold`, how many got in at the door (kept in the check-in's own transaction).
    checked_in = NumberAttribute(default=0)
    # Money, in the event currency's minor units, kept by the transactions that sell and refund
    # (the report reads these, never the orders): what paid orders paid, the part paid by card,
    # and what was given back. A reseller's `types` entries keep "gross" and "refunded" too.
    gross_minor = NumberAttribute(default=0)
    online_minor = NumberAttribute(default=0)
    refunded_minor = NumberAttribute(default=0)
    on_sale = BooleanAttribute(default=False)
    # The organizer's pool only: how many stock shards the event has (their counts add to this
    # pool's and its types'; services/sales/stock_shards.py), so a reader of the pools knows
    # without reading the event.
    stock_shard_items = NumberAttribute(null=True)
    # Set while an event is being force-deleted: bookings require it absent.
    closed_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    by_seller = AllocationsBySeller()


def type_shares(pool: Allocation) -> dict[str, dict[str, int]]:
    """A reseller pool's counts per ticket type (empty for the organizer's pool)."""
    return pool.types.as_dict() if pool.types is not None else {}
