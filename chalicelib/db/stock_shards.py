"""Stock shards: slices of one event's stock, each its own partition key.

Every order of an event writes the organizer's pool (`allocations`, keyed by the event) and its
ticket types (`ticket-types`, keyed by the event): one partition key takes about 1,000 write
units a second, so one event sells at most about 500 orders a second. A sharded event moves
most of its organizer stock, and its types' counts, into S shard items keyed
"<event>#<index>" (index 1..S): an order takes from one shard, so S shards take S times the
orders. The base items keep the rest (the reservoir, and every ticket once the lane closes).

A shard holds:
- `available`: its slice of the organizer pool's `available`;
- `types`: per ticket type, {"remaining": its slice of the type's remaining (only for types
  split into the lane), "sold", "held", "gross", "refunded"}: the counts of the type's sales
  that went through this shard (resellers' too: their pools stay single items);
- `sold`, `held`, `gross_minor`, `online_minor`, `refunded_minor`: the organizer pool's counts
  of the sales that went through this shard;
- `closed`: the lane was collapsed (services/sales/stock_shards.py): no order takes from it,
  and stock coming back to it goes to the base instead.

The event's true counts are always the base items' plus every shard's.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.db.base import TableModel, table_meta, utcnow

MAX_SHARDS = 64  # a lane's collapse and split fit DynamoDB's 100 items per transaction


def shard_id(event_id: str, index: int) -> str:
    return f"{event_id}#{index}"


class StockShard(TableModel):
    Meta = table_meta("stock-shards")

    id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute()
    index = NumberAttribute()
    available = NumberAttribute(default=0)
    types = MapAttribute(default=dict)
    sold = NumberAttribute(default=0)
    held = NumberAttribute(default=0)
    gross_minor = NumberAttribute(default=0)
    online_minor = NumberAttribute(default=0)
    refunded_minor = NumberAttribute(default=0)
    closed = BooleanAttribute(default=False)
    # The event's `stock_lane` when this shard was last split into: a take names the lane it
    # read, so an order decided on an event read before a collapse and split takes nothing.
    lane = NumberAttribute(null=True)
    # Bumped by every write: a split or a collapse rewrites the item as it read it.
    version = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    def type_counts(self) -> dict[str, dict[str, int]]:
        return self.types.as_dict() if self.types is not None else {}
