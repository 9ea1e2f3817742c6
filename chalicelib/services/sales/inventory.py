"""Ticket pools and their counts: the arithmetic every inventory rule rests on.

An event's tickets are split into pools, one per (event, seller): the organizer's own pool and
one per reseller allocation. The shares of an event's pools always add up to its
`number_of_tickets` (the capacity all its ticket types share), and every pool keeps
`available = number_of_tickets - sold - held >= 0`. Each
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
from typing import Any

from pynamodb.constants import BATCH_GET_PAGE_LIMIT
from pynamodb.transactions import TransactWrite

from chalicelib.db.allocations import Allocation, type_shares
from chalicelib.db.events import Event
from chalicelib.db.ticket_types import TicketType

ORGANIZER = "organizer"
RESELLER = "reseller"


@dataclass(frozen=True)
class Counts:
    allocated: int
    sold: int
    available: int
    held: int = 0


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
    held = sum(p.held for p in pools)
    return Counts(
        allocated=allocated, sold=sold, held=held, available=event.number_of_tickets - sold - held
    )


def organizer_pool(event: Event, pools: list[Allocation]) -> Allocation | None:
    return next((p for p in pools if p.seller_id == event.organizer_id), None)


# --- taking and giving back stock ------------------------------------------------------------
# An order's tickets are counted as `held` while it is reserved and as `sold` once paid; each
# line counts against its seller's pool (and, for a reseller, that pool's share of the type)
# and against its ticket type's own `remaining`. Every count that a sale lowers carries a
# condition in the same TransactWriteItems, so the contract's rules hold at every instant.
SOLD = "sold"
HELD = "held"


@dataclass(frozen=True)
class Line:
    """`quantity` tickets of one type (the type as read when the order was placed)."""

    ticket_type_id: str
    quantity: int


@dataclass(frozen=True)
class Money:
    """What a sale brought in, per ticket type (minor units), and whether by card (online)
    or collected by the seller (offline): the report's `gross` is kept with the stock."""

    per_type: dict[str, int]
    online: bool = False


def _pool_money(money: Money | None, by_reseller: bool) -> list:
    if money is None:
        return []
    total = sum(money.per_type.values())
    actions = [Allocation.gross_minor.add(total)]
    if money.online:
        actions.append(Allocation.online_minor.add(total))
    if by_reseller:
        for type_id, amount in money.per_type.items():
            path = Allocation.types[type_id]["gross"]
            actions.append(path.set((path | 0) + amount))
    return actions


def _type_money(money: Money | None, type_id: str) -> list:
    if money is None or type_id not in money.per_type:
        return []
    return [TicketType.gross_minor.add(money.per_type[type_id])]


def _pool_counter(state: str) -> Any:
    return Allocation.sold if state == SOLD else Allocation.held


def _type_counter(state: str) -> Any:
    return TicketType.sold if state == SOLD else TicketType.held


def add_take(
    tx: TransactWrite,
    *,
    event_id: str,
    seller_id: str,
    by_reseller: bool,
    must_be_on_sale: bool,
    lines: list[Line],
    state: str,
    now: datetime,
    money: Money | None = None,
    offer: bool = False,
) -> None:
    """Take every line's stock, all or nothing: the transaction is refused if any limit is short.
    `money`: what a sale (state SOLD) brought in, counted for the report in the same writes.
    While anyone waits for a type, the organizer's stock of it goes to the waiting list: only an
    `offer` (to the head of the queue, which it leaves) may take it."""
    add_pool_take(tx, event_id=event_id, seller_id=seller_id, by_reseller=by_reseller,
                  must_be_on_sale=must_be_on_sale, lines=lines, state=state, now=now,
                  money=money)  # fmt: skip
    for line in lines:
        add_type_take(tx, event_id=event_id, line=line, state=state, money=money,
                      by_reseller=by_reseller, offer=offer)  # fmt: skip


def add_pool_take(
    tx: TransactWrite,
    *,
    event_id: str,
    seller_id: str,
    by_reseller: bool,
    must_be_on_sale: bool,
    lines: list[Line],
    state: str,
    now: datetime,
    money: Money | None = None,
) -> None:
    """The seller's pool's part of a take (every line counts against it)."""
    total = sum(line.quantity for line in lines)
    actions = [
        Allocation.available.add(-total),
        _pool_counter(state).add(total),
        Allocation.updated_at.set(now),
    ]
    actions += _pool_money(money, by_reseller)
    # The pool must still hold `total` tickets, and be open, at write time.
    condition = (
        Allocation.event_id.exists()
        & Allocation.closed_at.does_not_exist()
        & (Allocation.available >= total)
    )
    if must_be_on_sale:
        condition &= Allocation.on_sale == True  # noqa: E712 - a DynamoDB condition, not a test
    if by_reseller:
        for line in lines:
            entry = Allocation.types[line.ticket_type_id]
            available, counter = entry["available"], entry[state]
            actions += [available.set(available - line.quantity),
                        counter.set(counter + line.quantity)]  # fmt: skip
            # The reseller's share of this type: a missing share fails the condition too.
            condition &= available >= line.quantity
    tx.update(Allocation(event_id=event_id, seller_id=seller_id), actions=actions,
              condition=condition)  # fmt: skip


def add_type_take(
    tx: TransactWrite,
    *,
    event_id: str,
    line: Line,
    state: str,
    money: Money | None = None,
    by_reseller: bool = False,
    offer: bool = False,
) -> None:
    """One line's part of a take on its ticket type's own item."""
    actions = [
        TicketType.remaining.add(-line.quantity),
        _type_counter(state).add(line.quantity),
        *_type_money(money, line.ticket_type_id),
    ]
    # Its own quantity (UNLIMITED when it has none), and still on sale: a type taken off
    # sale while this order was being placed sells nothing more.
    condition = (
        TicketType.id.exists()
        & (TicketType.remaining >= line.quantity)
        & (TicketType.on_sale == True)  # noqa: E712
    )
    if offer:
        actions.append(TicketType.waiting.add(-1))
        condition &= TicketType.waiting >= 1
    elif not by_reseller:
        condition &= TicketType.waiting.does_not_exist() | (TicketType.waiting == 0)
    tx.update(
        TicketType(event_id=event_id, id=line.ticket_type_id),
        actions=actions,
        condition=condition,
    )


def add_release(
    tx: TransactWrite,
    *,
    event_id: str,
    seller_id: str,
    by_reseller: bool,
    lines: list[Line],
    state: str,
    now: datetime,
    refunded: dict[str, int] | None = None,
) -> None:
    """Give `lines` back from `state` (held: an order ended unpaid; sold: tickets cancelled).
    Each count must still hold what is given back, so nothing is returned twice. `refunded`:
    money given back per ticket type (minor units), counted for the report in the same writes
    (types without lines too: a refund of an amount cancels nothing)."""
    refunded = {t: amount for t, amount in (refunded or {}).items() if amount}
    add_pool_release(tx, event_id=event_id, seller_id=seller_id, by_reseller=by_reseller,
                     lines=lines, state=state, now=now, refunded=refunded)  # fmt: skip
    released = {line.ticket_type_id for line in lines}
    for line in lines:
        add_type_release(tx, event_id=event_id, type_id=line.ticket_type_id,
                         counted=line.quantity, state=state, returned=line.quantity,
                         refunded=refunded.get(line.ticket_type_id, 0))  # fmt: skip
    for type_id, amount in refunded.items():
        if type_id not in released:
            add_type_release(tx, event_id=event_id, type_id=type_id, refunded=amount)


def add_pool_release(
    tx: TransactWrite,
    *,
    event_id: str,
    seller_id: str,
    by_reseller: bool,
    lines: list[Line],
    state: str | None,
    now: datetime,
    refunded: dict[str, int] | None = None,
    returned: int | None = None,
) -> None:
    """The seller's pool's part of a release: its `state` count goes down by the lines (unless
    `state` is None: they were counted elsewhere) and `returned` tickets (all of them by
    default) come back to its `available`."""
    refunded = {t: amount for t, amount in (refunded or {}).items() if amount}
    total = sum(line.quantity for line in lines)
    returned = total if returned is None else returned
    actions = [Allocation.available.add(returned), Allocation.updated_at.set(now)]
    condition = Allocation.event_id.exists()
    if state is not None:
        counter = _pool_counter(state)
        actions.append(counter.add(-total))
        condition &= counter >= total
    if by_reseller:
        for line in lines:
            entry = Allocation.types[line.ticket_type_id]
            available, count = entry["available"], entry[state]
            actions += [available.set(available + line.quantity),
                        count.set(count - line.quantity)]  # fmt: skip
            condition &= count >= line.quantity
    if refunded:
        actions.append(Allocation.refunded_minor.add(sum(refunded.values())))
        if by_reseller:
            for type_id, amount in refunded.items():
                path = Allocation.types[type_id]["refunded"]
                actions.append(path.set((path | 0) + amount))
    tx.update(Allocation(event_id=event_id, seller_id=seller_id), actions=actions,
              condition=condition)  # fmt: skip


def add_type_release(
    tx: TransactWrite,
    *,
    event_id: str,
    type_id: str,
    counted: int = 0,
    state: str | None = None,
    returned: int = 0,
    refunded: int = 0,
) -> None:
    """A ticket type's part of a release: `counted` tickets off its `state` count, `returned`
    back to its `remaining`, `refunded` money counted (any of them may be 0)."""
    actions = []
    condition = TicketType.id.exists()
    if returned:
        actions.append(TicketType.remaining.add(returned))
    if counted and state is not None:
        actions.append(_type_counter(state).add(-counted))
        condition &= _type_counter(state) >= counted
    if refunded:
        actions.append(TicketType.refunded_minor.add(refunded))
    if actions:
        tx.update(TicketType(event_id=event_id, id=type_id), actions=actions, condition=condition)


def add_settle(
    tx: TransactWrite,
    *,
    event_id: str,
    seller_id: str,
    by_reseller: bool,
    lines: list[Line],
    now: datetime,
    money: Money,
) -> None:
    """Turn a reserved order's held tickets into sold ones (it was paid): nothing changes hands
    in the pool's `available`, and each count must still hold what moves."""
    add_pool_settle(tx, event_id=event_id, seller_id=seller_id, by_reseller=by_reseller,
                    lines=lines, now=now, money=money)  # fmt: skip
    for line in lines:
        add_type_settle(tx, event_id=event_id, line=line, money=money)


def add_pool_settle(
    tx: TransactWrite,
    *,
    event_id: str,
    seller_id: str,
    by_reseller: bool,
    lines: list[Line],
    now: datetime,
    money: Money,
) -> None:
    total = sum(line.quantity for line in lines)
    actions = [Allocation.held.add(-total), Allocation.sold.add(total),
               Allocation.updated_at.set(now), *_pool_money(money, by_reseller)]  # fmt: skip
    condition = Allocation.event_id.exists() & (Allocation.held >= total)
    if by_reseller:
        for line in lines:
            entry = Allocation.types[line.ticket_type_id]
            held, sold = entry[HELD], entry[SOLD]
            actions += [held.set(held - line.quantity), sold.set(sold + line.quantity)]
            condition &= held >= line.quantity
    tx.update(Allocation(event_id=event_id, seller_id=seller_id), actions=actions,
              condition=condition)  # fmt: skip


def add_type_settle(tx: TransactWrite, *, event_id: str, line: Line, money: Money) -> None:
    tx.update(
        TicketType(event_id=event_id, id=line.ticket_type_id),
        actions=[
            TicketType.held.add(-line.quantity),
            TicketType.sold.add(line.quantity),
            *_type_money(money, line.ticket_type_id),
        ],
        condition=TicketType.id.exists() & (TicketType.held >= line.quantity),
    )


def seller_stock(pool: Allocation | None, ticket_type_id: str) -> int:
    """How many tickets of a type this seller's pool can still sell (ignoring the type's own
    quantity): the organizer's whole pool, or the reseller's share of that type."""
    if pool is None or pool.closed_at is not None:
        return 0
    if pool.seller_role == ORGANIZER:
        return pool.available
    return type_shares(pool).get(ticket_type_id, {}).get("available", 0)


def available_of(
    ticket_type: TicketType, pool: Allocation | None, *, for_offers: bool = False
) -> int:
    """What an order of this type from this seller could take now (the organizer's stock of a
    type people wait for is theirs: 0 for anyone else, unless `for_offers`)."""
    waited_for = bool(ticket_type.waiting) and pool is not None and pool.seller_role == ORGANIZER
    if waited_for and not for_offers:
        return 0
    return max(0, min(ticket_type.remaining, seller_stock(pool, ticket_type.id)))
