"""Ticket pools and their counts: the arithmetic every inventory rule rests on.

An event's tickets are split into pools, one per (event, seller): the organizer's own pool and
one per reseller allocation. The shares of an event's pools always add up to its
`number_of_tickets`, and every pool keeps `available = number_of_tickets - sold >= 0`. Each
change is a conditional write on the pools it touches, so the rules of the contract hold at
every instant:

- total sold <= number_of_tickets, because each pool's sold <= its share;
- each allocation's sold <= its share (its `available >= 0`);
- allocated + organizer-sold <= number_of_tickets, because organizer-sold <= the organizer's
  share = number_of_tickets - allocated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.constants import BATCH_GET_PAGE_LIMIT

from chalicelib.db.allocations import Allocation
from chalicelib.db.events import Event

ORGANIZER = "organizer"
RESELLER = "reseller"


@dataclass(frozen=True)
class Counts:
    allocated: int
    sold: int
    available: int


def new_pool(
    *, event_id: str, seller_id: str, seller_role: str, share: int, now: datetime
) -> Allocation:
    """A fresh pool with nothing sold. The organizer's is always on sale; a reseller's starts
    off sale until the reseller offers it."""
    return Allocation(
        event_id=event_id,
        seller_id=seller_id,
        seller_role=seller_role,
        number_of_tickets=share,
        sold=0,
        available=share,
        on_sale=seller_role == ORGANIZER,
        created_at=now,
        updated_at=now,
    )


def pools_of(event_id: str) -> list[Allocation]:
    """Every pool of one event: one Query, one item per seller."""
    return list(Allocation.query(event_id, consistent_read=True))


# BatchGetItem's limit: a page of events is cut where its pools would need a second call.
POOLS_PER_CALL = BATCH_GET_PAGE_LIMIT


def pools_of_events(events: list[Event]) -> dict[str, list[Allocation]]:
    """The pools of several events in one BatchGetItem (at most POOLS_PER_CALL pools), read
    through the seller ids each event lists. Eventually consistent, at half the cost: a listing
    may show counts up to a second old; one event (GET /events/{id}) reads them consistently."""
    keys = [(event.id, seller_id) for event in events for seller_id in event.seller_ids]
    if len(keys) > POOLS_PER_CALL:
        raise ValueError(f"{len(keys)} pools do not fit one BatchGetItem")
    pools: dict[str, list[Allocation]] = {event.id: [] for event in events}
    for pool in Allocation.batch_get(keys, consistent_read=False) if keys else ():
        pools[pool.event_id].append(pool)
    return pools


def events_fitting_one_call(events: list[Event]) -> int:
    """How many of `events`, from the first, have pools that fit one BatchGetItem (at least
    one: an event has at most 51 pools)."""
    total = 0
    for kept, event in enumerate(events):
        total += len(event.seller_ids)
        if kept and total > POOLS_PER_CALL:
            return kept
    return len(events)


def counts(event: Event, pools: list[Allocation]) -> Counts:
    allocated = sum(p.number_of_tickets for p in pools if p.seller_role == RESELLER)
    sold = sum(p.sold for p in pools)
    return Counts(allocated=allocated, sold=sold, available=event.number_of_tickets - sold)


def organizer_pool(event: Event, pools: list[Allocation]) -> Allocation | None:
    return next((p for p in pools if p.seller_id == event.organizer_id), None)
