"""Where an order's stock is counted, and the one place that routes its writes there.

An event's stock lives in its base items (inventory.py: the pools and the ticket types) and,
while its lane is open, in its stock shards (stock_shards.py). An order records its `Place`:
the shard it took from, if any, and which of its types were counted there (those in the lane
when it was placed). Its settle and its releases then go to the same counts, wherever the
lane has gone since. Stock given back always returns to the base items, where the fallover
and the tail sell it.

A place on a shard counts the organizer pool's part there (a reseller's pool is its own item
and never hot) and each line of a type in the lane; a type outside the lane (too little of it
to split, or added since) is taken from its base item in the same transaction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime

from pynamodb.transactions import TransactWrite

from chalicelib.db.events import Event
from chalicelib.db.orders import Order
from chalicelib.db.recent_reads import RecentReads
from chalicelib.db.stock_shards import StockShard
from chalicelib.db.tickets import Ticket
from chalicelib.services.sales import inventory, stock_shards
from chalicelib.services.sales.inventory import Line, Money


@dataclass(frozen=True)
class Place:
    shard: int | None = None  # None: the base items
    shard_types: frozenset[str] = frozenset()
    lane: int | None = None  # the event's `stock_lane` as read: a take there must find it

    def on_shard(self, lines: list[Line]) -> list[Line]:
        return [line for line in lines if line.ticket_type_id in self.shard_types]

    def off_shard(self, lines: list[Line]) -> list[Line]:
        return [line for line in lines if line.ticket_type_id not in self.shard_types]


BASE = Place()


def place_of(order: Order) -> Place:
    if order.stock_shard is None:
        return BASE
    return Place(int(order.stock_shard), frozenset(order.stock_shard_types or ()))


def place_of_ticket(ticket: Ticket) -> Place:
    if ticket.stock_shard is None:
        return BASE
    type_id = ticket.ticket_type_id or ticket.event_id
    return Place(int(ticket.stock_shard), frozenset({type_id} if ticket.stock_shard_type else ()))


def record_place(order: Order, place: Place) -> None:
    """Note on an order (and so on its tickets, issued from it) where its stock is counted."""
    order.stock_shard = place.shard
    order.stock_shard_types = set(place.shard_types) or None
    order.spread_index_keys()


def _lane_place(event: Event, index: int, type_ids: set[str], by_reseller: bool) -> Place:
    shard_types = frozenset(type_ids & set(event.stock_lane_types or ()))
    if by_reseller and not shard_types:
        return BASE  # nothing of a reseller's order is in the lane
    lane = int(event.stock_lane) if event.stock_lane is not None else None
    return Place(index, shard_types, lane)


# Per process: each open lane's shards as a refusal last read them. Late in a sale most shards
# are dry; an order's first pick skips those that could not hold it then, instead of each
# order finding one by a refusal and reading all S shards again.
_census: RecentReads[list[StockShard | None]] = RecentReads(ttl_s=1.0)


def first_place(event: Event, lines: list[Line], *, by_reseller: bool) -> Place:
    """A random shard of the open lane (so that orders spread over its partitions) among those
    that held the order when this process last looked, or the base items."""
    size = stock_shards.lane_size(event)
    if size < 2:
        return BASE
    place = _lane_place(event, 0, {line.ticket_type_id for line in lines}, by_reseller)
    if place == BASE:
        return BASE
    candidates = _fitting(_census.peek((event.id, place.lane)) or [], place, lines, by_reseller)
    index = random.choice(candidates or range(1, size + 1))  # noqa: S311
    return replace(place, shard=index)


def _fitting(
    shards: list[StockShard | None], place: Place, lines: list[Line], by_reseller: bool
) -> list[int]:
    """The shards (1-based) whose counts as read would take the order at `place`."""
    pool_quantity = 0 if by_reseller else sum(line.quantity for line in lines)
    on_shard = place.on_shard(lines)
    return [
        index
        for index, shard in enumerate(shards, start=1)
        if stock_shards.holds(shard, pool_quantity=pool_quantity, lines=on_shard, lane=place.lane)
    ]


def after_refusal(
    event: Event, place: Place, lines: list[Line], *, by_reseller: bool
) -> Place | None:
    """Where to try next when a take at `place` was refused: another shard that holds the
    whole order, else the base items once a rebalance has gathered the order's stock there.
    None when the stock was not what refused it, or when there is nowhere left to look (the
    caller then explains the refusal from the summed counts)."""
    pool_quantity = 0 if by_reseller else sum(line.quantity for line in lines)
    if place.shard is not None:
        shards = stock_shards.read_shards(event.id, stock_shards.lane_size(event))
        _census.put((event.id, place.lane), shards)
        fits = _fitting(shards, place, lines, by_reseller)
        if place.shard in fits:
            return None  # the shard could take it: something else refused the order
        if fits:
            return replace(place, shard=random.choice(fits))  # noqa: S311
    if not stock_shards.lane_size(event):
        # Closed, but a collapse cut short (a crash, throttling) may have left stock in a
        # shard: finish it, so that sold out is never answered over stranded tickets.
        return BASE if stock_shards.finish_collapse(event) else None
    in_lane = [line for line in lines if line.ticket_type_id in (event.stock_lane_types or ())]
    if stock_shards.gather(event, pool_quantity=pool_quantity, lines=in_lane):
        return BASE
    return None


# --- the writes --------------------------------------------------------------------------------


def add_take(
    tx: TransactWrite,
    *,
    place: Place,
    event_id: str,
    seller_id: str,
    by_reseller: bool,
    must_be_on_sale: bool,
    lines: list[Line],
    state: str,
    now: datetime,
    money: Money | None = None,
) -> None:
    if place.shard is None:
        inventory.add_take(tx, event_id=event_id, seller_id=seller_id, by_reseller=by_reseller,
                           must_be_on_sale=must_be_on_sale, lines=lines, state=state, now=now,
                           money=money)  # fmt: skip
        return
    total = sum(line.quantity for line in lines)
    stock_shards.add_take(tx, event_id=event_id, index=place.shard,
                          pool_quantity=0 if by_reseller else total, lines=place.on_shard(lines),
                          state=state, now=now, money=money, lane=place.lane)  # fmt: skip
    if by_reseller:
        inventory.add_pool_take(tx, event_id=event_id, seller_id=seller_id, by_reseller=True,
                                must_be_on_sale=must_be_on_sale, lines=lines, state=state,
                                now=now, money=money)  # fmt: skip
    for line in place.off_shard(lines):
        inventory.add_type_take(tx, event_id=event_id, line=line, state=state, money=money,
                                by_reseller=by_reseller)  # fmt: skip


def add_settle(
    tx: TransactWrite,
    *,
    place: Place,
    event_id: str,
    seller_id: str,
    by_reseller: bool,
    lines: list[Line],
    now: datetime,
    money: Money,
) -> None:
    if place.shard is None:
        inventory.add_settle(tx, event_id=event_id, seller_id=seller_id, by_reseller=by_reseller,
                             lines=lines, now=now, money=money)  # fmt: skip
        return
    total = sum(line.quantity for line in lines)
    stock_shards.add_settle(tx, event_id=event_id, index=place.shard,
                            pool_quantity=0 if by_reseller else total,
                            lines=place.on_shard(lines), now=now, money=money)  # fmt: skip
    if by_reseller:
        inventory.add_pool_settle(tx, event_id=event_id, seller_id=seller_id, by_reseller=True,
                                  lines=lines, now=now, money=money)  # fmt: skip
    for line in place.off_shard(lines):
        inventory.add_type_settle(tx, event_id=event_id, line=line, money=money)


def add_release(
    tx: TransactWrite,
    *,
    place: Place,
    event_id: str,
    seller_id: str,
    by_reseller: bool,
    lines: list[Line],
    state: str,
    now: datetime,
    refunded: dict[str, int] | None = None,
) -> None:
    """Give `lines` back from `state`: the counts go down where they were kept, the stock
    returns to the base items; `refunded` money is counted where the sale was."""
    if place.shard is None:
        inventory.add_release(tx, event_id=event_id, seller_id=seller_id,
                              by_reseller=by_reseller, lines=lines, state=state, now=now,
                              refunded=refunded)  # fmt: skip
        return
    refunded = {t: amount for t, amount in (refunded or {}).items() if amount}
    total = sum(line.quantity for line in lines)
    on_shard, off_shard = place.on_shard(lines), place.off_shard(lines)
    stock_shards.add_release(
        tx, event_id=event_id, index=place.shard, pool_quantity=0 if by_reseller else total,
        lines=on_shard, state=state, now=now,
        refunded_pool=0 if by_reseller else sum(refunded.values()),
        refunded_types={t: a for t, a in refunded.items() if t in place.shard_types},
    )  # fmt: skip
    if by_reseller:
        inventory.add_pool_release(
            tx, event_id=event_id, seller_id=seller_id, by_reseller=True, lines=lines,
            state=state, now=now, refunded=refunded,
        )  # fmt: skip
    else:  # its counts are on the shard: only the tickets come back
        inventory.add_pool_release(tx, event_id=event_id, seller_id=seller_id, by_reseller=False,
                                   lines=lines, state=None, now=now)  # fmt: skip
    for line in on_shard:
        inventory.add_type_release(tx, event_id=event_id, type_id=line.ticket_type_id,
                                   returned=line.quantity)  # fmt: skip
    for line in off_shard:
        inventory.add_type_release(tx, event_id=event_id, type_id=line.ticket_type_id,
                                   counted=line.quantity, state=state, returned=line.quantity,
                                   refunded=refunded.get(line.ticket_type_id, 0))  # fmt: skip
    released = {line.ticket_type_id for line in lines}
    for type_id, amount in refunded.items():
        if type_id not in released and type_id not in place.shard_types:
            inventory.add_type_release(tx, event_id=event_id, type_id=type_id, refunded=amount)
