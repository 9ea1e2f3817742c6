"""Write-sharded index keys: the orders and tickets of a hot sale spread over several index
partitions, not one.

A global secondary index partition takes about 1,000 write units a second, like a table's. Every
order writes its event's, its organizer's and its seller's key in the orders' indexes, and every
ticket the same three in the tickets' (one unit each per item under 1 KB): unsplit, one event
sells at most about 1,000 tickets a second whatever its stock does. So an order or ticket whose
stock came from a stock shard (services/sales/stock.py) carries index keys with a part suffix:
"<event>#<shard>" for its event (as many parts as the event has shards), "<id>#<1..16>" for its
organizer and seller, "<minute>#<1..8>" for the expiry sweep's minute. Every other item keeps
the plain id, so an unsharded event's listings are the one Query they always were; a listing of
a sharded event, or of an organizer or seller, reads the parts in turn (db/pagination.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

OWNER_PARTS = 16  # an organizer's or seller's tickets: 16,000 a second
DUE_PARTS = 8  # reserved orders expiring in one minute: 8,000 a second


def part(key: str, shard: int | None, parts: int | None = None) -> str:
    """The index key of an item sold through stock shard `shard` (None: not sharded):
    `key#shard`, folded into `parts` parts when given."""
    if shard is None:
        return key
    index = int(shard) if parts is None else (int(shard) - 1) % parts + 1
    return f"{key}#{index}"


def spread(item: Any) -> None:
    """Set an order's or ticket's event, organizer and seller index keys for its stock shard
    (the plain ids when it has none)."""
    shard = item.stock_shard
    if item.event_id is not None:
        item.event_part = part(item.event_id, shard)
    if item.organizer_id is not None:
        item.organizer_part = part(item.organizer_id, shard, OWNER_PARTS)
    if item.seller_id is not None:
        item.seller_part = part(item.seller_id, shard, OWNER_PARTS)


def event_parts(event_id: str, shard_items: int | None) -> list[str]:
    return [event_id, *(f"{event_id}#{i}" for i in range(1, int(shard_items or 0) + 1))]


def owner_parts(owner_id: str) -> list[str]:
    return [owner_id, *(f"{owner_id}#{i}" for i in range(1, OWNER_PARTS + 1))]


def due_parts(minute: str) -> list[str]:
    return [minute, *(f"{minute}#{i}" for i in range(1, DUE_PARTS + 1))]


def query_parts(index: Any, keys: list[str], *args: Any, **kwargs: Any) -> Iterator[Any]:
    """Every item of `index` under any of `keys`, part after part."""
    for key in keys:
        yield from index.query(key, *args, **kwargs)
