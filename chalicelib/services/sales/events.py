"""Events: created by organizers (or admins on their behalf), with their ticket pools."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pynamodb.pagination import ResultIterator
from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import ADMIN, ORGANIZER, Principal
from chalicelib.db import index_parts, transactions
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import get_or_none, new_id, utcnow
from chalicelib.db.events import CATALOG, Event
from chalicelib.db.orders import Order
from chalicelib.db.pagination import Page, fetch_page, shorten
from chalicelib.db.scanners import Scanner
from chalicelib.db.ticket_types import TicketType
from chalicelib.db.tickets import Ticket
from chalicelib.db.uniques import UniqueClaim
from chalicelib.db.users import User
from chalicelib.db.vouchers import Voucher
from chalicelib.db.waiting_list import WaitingEntry
from chalicelib.errors import Conflict, Forbidden, InvalidRequest, NotFound
from chalicelib.money import from_minor, to_minor
from chalicelib.services.sales import inventory
from chalicelib.services.sales import stock_shards as shards
from chalicelib.services.sales.inventory import Counts
from chalicelib.services.stream.changes import record as record_change

RESIZE_ATTEMPTS = 3
T = TypeVar("T")


@dataclass(frozen=True)
class EventWithCounts:
    event: Event
    counts: Counts


def price_minor(price: str, currency_code: str) -> int:
    try:
        return to_minor(price, currency_code)
    except ValueError as exc:
        raise InvalidRequest(details={"price": str(exc)}) from None


def _require_future(time: datetime) -> None:
    if time <= utcnow():
        raise InvalidRequest(details={"time": "Must be in the future."})


def _require_cancellable_before(cancellable_until: datetime | None, time: datetime) -> None:
    if cancellable_until is not None and cancellable_until > time:
        raise InvalidRequest(details={"cancellable_until": "Must not be after the event's time."})


# update_event's default for fields that may be set to None: leave them as they are.
UNCHANGED: Any = object()


def get_event(event_id: str) -> Event:
    event = get_or_none(Event, event_id, consistent_read=True)
    if event is None:
        raise NotFound()
    return event


def with_counts(event: Event) -> EventWithCounts:
    pools = inventory.pools_of(event.id)
    shards.fold(pools)
    return EventWithCounts(event, inventory.counts(event, pools))


def owned_event(actor: Principal, event_id: str) -> Event:
    """The event, if the actor is an admin or the organizer who owns it."""
    if actor.role not in (ADMIN, ORGANIZER):
        raise Forbidden()
    event = get_event(event_id)
    if actor.role == ORGANIZER and event.organizer_id != actor.user_id:
        raise Forbidden()
    return event


def with_lane_closed(change: Callable[..., T]) -> Callable[..., T]:
    """For a change of an event's stock or of its types' rules (allocations, ticket types): on
    an event whose stock is split into shards it is made with the lane collapsed into the base
    items, where every condition of the change applies, and the stock is split again after.
    The caller's right to change the event is checked first: nobody else can make a lane
    collapse."""

    @functools.wraps(change)
    def changed(*, actor: Principal, event_id: str, **kwargs: Any) -> T:
        event = owned_event(actor, event_id)
        if not event.stock_lane_open and int(event.stock_shards or 1) < 2:
            return change(actor=actor, event_id=event_id, **kwargs)
        with shards.lane_closed(event_id):
            return change(actor=actor, event_id=event_id, **kwargs)

    return changed


def _organizer_for(actor: Principal, organizer_id: str | None) -> str:
    if actor.role == ORGANIZER:
        if organizer_id not in (None, actor.user_id):
            raise Forbidden(details={"organizer_id": "Organizers create events for themselves."})
        return actor.user_id
    if actor.role != ADMIN:
        raise Forbidden()
    if organizer_id is None:
        raise InvalidRequest(details={"organizer_id": "Required when an admin creates an event."})
    organizer = get_or_none(User, organizer_id)
    if organizer is None or organizer.role != ORGANIZER:
        raise InvalidRequest(details={"organizer_id": "Not an organizer."})
    return organizer_id


def create_event(
    *,
    actor: Principal,
    title: str,
    time: datetime,
    price: str,
    currency_code: str,
    number_of_tickets: int,
    organizer_id: str | None = None,
    cancellable_until: datetime | None = None,
    payment: str = "offline",
    hold_minutes: int = 15,
    waiting_list_hours: int = 24,
    queue: dict | None = None,
    stock_shards: int = 1,
) -> EventWithCounts:
    from chalicelib.services.sales.ticket_types import add_new_type, default_type

    organizer_id = _organizer_for(actor, organizer_id)
    _require_future(time)
    _require_cancellable_before(cancellable_until, time)
    _require_queue_before(queue, time)
    now = utcnow()
    event = Event(
        id=new_id(),
        title=title,
        time=time,
        price_minor=price_minor(price, currency_code),
        currency_code=currency_code,
        number_of_tickets=number_of_tickets,
        organizer_id=organizer_id,
        seller_ids={organizer_id},
        cancellable_until=cancellable_until,
        payment=payment,
        hold_minutes=hold_minutes,
        waiting_list_hours=waiting_list_hours,
        queue_opens_at=queue["opens_at"] if queue else None,
        queue_admit_per_second=queue["admit_per_second"] if queue else None,
        stock_shards=stock_shards if stock_shards > 1 else None,
        created_at=now,
        updated_at=now,
    )
    # The original's single price becomes the event's one ticket type, "General admission".
    first_type = default_type(event, now)
    event.ticket_type_ids = {first_type.id}
    # The organizer's own pool starts with every ticket; allocations move shares out of it.
    pool = inventory.new_pool(
        event_id=event.id,
        seller_id=organizer_id,
        seller_role=inventory.ORGANIZER,
        share=number_of_tickets,
        now=now,
    )

    def build(tx: TransactWrite) -> None:
        tx.save(event, condition=Event.id.does_not_exist())
        tx.save(pool, condition=Allocation.event_id.does_not_exist())
        add_new_type(tx, first_type, first_type.id)
        _record(tx, "event.created", actor, event, {"title": title,
                "number_of_tickets": number_of_tickets})  # fmt: skip

    transactions.write(build)
    if stock_shards > 1 and shards.reopen(event.id):
        return with_counts(get_event(event.id))
    return EventWithCounts(event, Counts(allocated=0, sold=0, available=number_of_tickets))


def list_events(
    *,
    organizer_id: str | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    next_token: str | None,
) -> Page[EventWithCounts]:
    """Events in time order. A page costs two calls whatever its size: one index Query, then
    one BatchGetItem for the pools of every event on it (a page is cut short, with a
    `next_token`, where its pools would not fit one call)."""
    if start and end:
        time_range = Event.time.between(start, end)
    elif start:
        time_range = Event.time >= start
    elif end:
        time_range = Event.time <= end
    else:
        time_range = None
    if organizer_id:
        index_key = ("organizer_id", "time")

        def query(**kw: Any) -> ResultIterator[Event]:
            return Event.by_organizer.query(organizer_id, range_key_condition=time_range, **kw)
    else:
        index_key = ("catalog", "time")

        def query(**kw: Any) -> ResultIterator[Event]:
            return Event.by_time.query(CATALOG, range_key_condition=time_range, **kw)

    scope = f"events:organizer={organizer_id}:from={start}:to={end}"
    page = fetch_page(Event, query, scope=scope, limit=limit, next_token=next_token)
    keep = inventory.events_fitting_one_call(page.items)
    page = shorten(page, keep, scope=scope, key_names=("id", *index_key))
    pools = inventory.pools_of_events(page.items)
    for event in page.items:
        shards.fold(pools[event.id])  # one more read for each sharded event
    return Page(
        items=[EventWithCounts(e, inventory.counts(e, pools[e.id])) for e in page.items],
        next_token=page.next_token,
    )


def update_event(
    *, actor: Principal, event_id: str, stock_shards: int | None = None, **changes: Any
) -> EventWithCounts:
    """Change an event (`changes`: the fields of `_update`). While its stock is split into
    shards, or when the number of shards changes, the change is made with the lane collapsed
    into the base items, and the stock is split again afterwards."""
    event = owned_event(actor, event_id)
    if stock_shards is None and not event.stock_lane_open:
        return _update(actor=actor, event_id=event_id, **changes)
    with shards.lane_closed(event_id):
        if changes:
            _update(actor=actor, event_id=event_id, **changes)
        if stock_shards is not None and stock_shards != int(event.stock_shards or 1):
            _set_stock_shards(actor, get_event(event_id), stock_shards)
    return with_counts(get_event(event_id))


def _set_stock_shards(actor: Principal, event: Event, count: int) -> None:
    def build(tx: TransactWrite) -> None:
        action = Event.stock_shards.set(count) if count > 1 else Event.stock_shards.remove()
        tx.update(event, actions=[action, Event.updated_at.set(utcnow())],
                  condition=Event.id.exists())  # fmt: skip
        _record(tx, "event.updated", actor, event, {"stock_shards": str(count)})

    transactions.write(build)


def _update(
    *,
    actor: Principal,
    event_id: str,
    title: str | None = None,
    time: datetime | None = None,
    price: str | None = None,
    currency_code: str | None = None,
    number_of_tickets: int | None = None,
    cancellable_until: datetime | None = UNCHANGED,
    payment: str | None = None,
    hold_minutes: int | None = None,
    waiting_list_hours: int | None = None,
    queue: dict | None = UNCHANGED,
) -> EventWithCounts:
    event = owned_event(actor, event_id)
    now = utcnow()
    actions = [Event.updated_at.set(now)]
    given = {"title": title, "time": time, "price": price, "currency_code": currency_code,
             "number_of_tickets": number_of_tickets, "payment": payment,
             "hold_minutes": hold_minutes,
             "waiting_list_hours": waiting_list_hours}  # fmt: skip
    details = {name: str(value) for name, value in given.items() if value is not None}
    if cancellable_until is not UNCHANGED:
        details["cancellable_until"] = str(cancellable_until)
    if title is not None:
        actions.append(Event.title.set(title))
    if time is not None:
        _require_future(time)
        actions.append(Event.time.set(time))
    if cancellable_until is UNCHANGED:
        cancellable_until = event.cancellable_until
    elif cancellable_until is None:
        actions.append(Event.cancellable_until.remove())
    else:
        actions.append(Event.cancellable_until.set(cancellable_until))
    _require_cancellable_before(cancellable_until, time or event.time)
    if payment is not None:
        actions.append(Event.payment.set(payment))
    if hold_minutes is not None:
        actions.append(Event.hold_minutes.set(hold_minutes))
    if waiting_list_hours is not None:
        actions.append(Event.waiting_list_hours.set(waiting_list_hours))
    condition = Event.id.exists()
    if queue is not UNCHANGED:
        actions += _queue_actions(event, queue, time or event.time, now)
        details["queue"] = str(queue) if queue else None
        # Decided on the queue as read: a parallel change of it refuses this write.
        condition &= (
            Event.queue_opens_at.does_not_exist() if event.queue_opens_at is None
            else Event.queue_opens_at == event.queue_opens_at
        )  # fmt: skip
    elif time is not None:
        _require_queue_before(_queue_of(event), time)
    repriced: list[tuple[TicketType, list]] = []
    if price is not None or currency_code is not None:
        repriced = _reprice_types(event, price, currency_code or event.currency_code)
        actions += [Event.currency_code.set(currency_code or event.currency_code),
                    Event.types_version.add(1)]  # fmt: skip
        if repriced:
            actions.append(Event.price_minor.set(_lowest_after(repriced)))
        elif price is not None:  # stored before ticket types and not migrated yet
            actions.append(
                Event.price_minor.set(price_minor(price, currency_code or event.currency_code))
            )
        # The types as read are the ones repriced: a type added meanwhile refuses this write.
        condition &= Event.types_version == event.types_version
    if number_of_tickets is None or number_of_tickets == event.number_of_tickets:

        def build(tx: TransactWrite) -> None:
            tx.update(event, actions=actions, condition=condition)
            _add_repricing(tx, repriced)
            _record(tx, "event.updated", actor, event, details)

        if not transactions.write_unless_refused(build):
            if get_or_none(Event, event_id, consistent_read=True) is None:
                raise NotFound()
            raise Conflict("The event changed meanwhile; try again.", code="concurrent_change")
        return with_counts(get_event(event_id))
    return _resize(event, number_of_tickets, actions, actor, details, repriced)


def _queue_of(event: Event) -> dict | None:
    if event.queue_opens_at is None:
        return None
    return {"opens_at": event.queue_opens_at, "admit_per_second": event.queue_admit_per_second}


def _require_queue_before(queue: dict | None, time: datetime) -> None:
    if queue is not None and queue["opens_at"] >= time:
        raise InvalidRequest(details={"queue.opens_at": "Must be before the event's time."})


def _queue_actions(event: Event, queue: dict | None, time: datetime, now: datetime) -> list:
    """Set or remove the on-sale queue; once it has opened it may only be removed (positions
    and admissions already given out stand on its settings)."""
    current = _queue_of(event)
    if current is not None and current["opens_at"] <= now and queue not in (None, current):
        raise Conflict(
            "The on-sale queue has opened: it can only be removed (queue: null).",
            code="queue_open",
        )
    if queue is None:
        return [Event.queue_opens_at.remove(), Event.queue_admit_per_second.remove()]
    _require_queue_before(queue, time)
    return [Event.queue_opens_at.set(queue["opens_at"]),
            Event.queue_admit_per_second.set(queue["admit_per_second"])]  # fmt: skip


def _reprice_types(event: Event, price: str | None, currency: str) -> list[tuple[TicketType, list]]:
    """Each type's new price: the event's `price` sets its only type's; a new currency alone
    keeps each type's price figure, if the currency can express it."""
    from chalicelib.services.sales.ticket_types import types_of

    types = types_of(event.id)
    if price is not None and len(types) > 1:
        raise Conflict(
            "This event sells several ticket types: set each one's price with "
            "PUT /events/{id}/ticket-types/{type_id}.",
            code="price_per_ticket_type",
        )
    repriced = []
    for ticket_type in types:
        figure = price if price is not None else from_minor(
            ticket_type.price_minor, ticket_type.currency_code)  # fmt: skip
        ticket_type.price_minor = price_minor(figure, currency)
        ticket_type.currency_code = currency
        repriced.append((ticket_type, [TicketType.price_minor.set(ticket_type.price_minor),
                                       TicketType.currency_code.set(currency)]))  # fmt: skip
    return repriced


def _lowest_after(repriced: list[tuple[TicketType, list]]) -> int:
    from chalicelib.services.sales.ticket_types import lowest_price

    return lowest_price([t for t, _ in repriced]) or 0


def _add_repricing(tx: TransactWrite, repriced: list[tuple[TicketType, list]]) -> None:
    for ticket_type, type_actions in repriced:
        tx.update(ticket_type, actions=type_actions, condition=TicketType.id.exists())


def _record(
    tx: TransactWrite, type_: str, actor: Principal, event: Event, details: dict[str, Any]
) -> None:
    record_change(tx, type_, actor=actor, target_type="event", target_id=event.id,
                  event_id=event.id, details=details,
                  data={"organizer_id": event.organizer_id})  # fmt: skip


def _resize(
    event: Event,
    new_total: int,
    actions: list,
    actor: Principal,
    details: dict[str, Any],
    repriced: list[tuple[TicketType, list]],
) -> EventWithCounts:
    """Change the ticket count: the organizer's pool absorbs the difference, never below what
    it has sold, so number_of_tickets cannot drop below allocated + organizer-sold."""
    # Repriced types were read at this version: a type added meanwhile refuses the write.
    repricing_condition = (
        Event.types_version == event.types_version if repriced else Event.id.exists()
    )
    for _ in range(RESIZE_ATTEMPTS):
        seen_total, seen_version = event.number_of_tickets, event.types_version
        delta = new_total - seen_total
        organizer_pool = Allocation(event_id=event.id, seller_id=event.organizer_id)

        def build(
            tx: TransactWrite,
            event: Event = event,
            pool: Allocation = organizer_pool,
            delta: int = delta,
            seen_total: int = seen_total,
        ) -> None:
            # The event's count must still be the one we computed the delta from: a parallel
            # resize in between would otherwise be applied twice to the pool.
            tx.update(
                event,
                actions=[*actions, Event.number_of_tickets.set(new_total)],
                condition=(Event.number_of_tickets == seen_total) & repricing_condition,
            )
            _add_repricing(tx, repriced)
            tx.update(
                pool,
                actions=[
                    Allocation.number_of_tickets.add(delta),
                    Allocation.available.add(delta),
                    Allocation.updated_at.set(utcnow()),
                ],
                condition=Allocation.event_id.exists() & (Allocation.available >= -delta),
            )
            _record(tx, "event.updated", actor, event, details)

        if not transactions.write_unless_refused(build):
            event = get_event(event.id)
            pools = inventory.pools_of(event.id)
            if event.number_of_tickets != seen_total:
                continue  # resized in parallel: recompute against the new count
            if repriced and event.types_version != seen_version:
                raise Conflict("The event changed meanwhile; try again.", code="concurrent_change")
            counts = inventory.counts(event, pools)
            pool = inventory.organizer_pool(event, pools)
            floor = event.number_of_tickets - (pool.available if pool else 0)
            raise Conflict(
                f"number_of_tickets cannot go below allocated + sold by the organizer ({floor}).",
                code="below_committed_tickets",
                details={"allocated": str(counts.allocated), "sold": str(counts.sold)},
            )
        return with_counts(get_event(event.id))
    raise Conflict("The event changed while resizing; try again.", code="concurrent_change")


def delete_event(*, actor: Principal, event_id: str, force: bool = False) -> None:
    """Delete an event and its pools. With sales, only an admin's force also deletes the tickets."""
    event = owned_event(actor, event_id)
    if force and actor.role != ADMIN:
        raise Forbidden(details={"force": "Only an admin can force-delete an event."})
    shards.collapse(event_id)  # its stock back in the base items, which the delete checks
    pools = inventory.pools_of(event_id)
    if any(pool.sold or pool.held for pool in pools) or shards.has_sales(event):
        if not force:
            raise Conflict(
                "Tickets were sold or are held for this event; an admin can delete it with "
                "?force=true, which also deletes its tickets and orders.",
                code="event_has_sales",
            )
        _close_and_clear_tickets(event_id, pools)
        pools = inventory.pools_of(event_id)

    def build(tx: TransactWrite) -> None:
        tx.delete(event, condition=Event.id.exists())
        for pool in pools:
            # A booking that lands between our read and this delete cancels the delete.
            tx.delete(
                pool, condition=(Allocation.sold == pool.sold) & (Allocation.held == pool.held)
            )
        _record(tx, "event.deleted", actor, event, {"title": event.title, "forced": force})

    if not transactions.write_unless_refused(build):
        raise Conflict("Tickets were just sold for this event; try again.", code="event_has_sales")
    # Cancelled tickets' tombstones and the door's scanners go with the event (after it, so
    # that a refused delete keeps them; a crash here leaves orphans that reach no event).
    with Ticket.batch_write() as batch:
        for tombstone in Ticket.revoked_by_event.query(event_id):
            batch.delete(tombstone)
    with Scanner.batch_write() as batch:
        for scanner in Scanner.by_event.query(event_id):
            batch.delete(scanner)
    _delete_types(event_id)
    shards.delete_shards(event)
    with Voucher.batch_write() as batch:
        for voucher in Voucher.query(event_id):
            batch.delete(voucher)
    with WaitingEntry.batch_write() as batch:
        for entry in WaitingEntry.by_event.query(event_id):
            batch.delete(entry)


def _delete_types(event_id: str) -> None:
    """The event's ticket types and their name claims (at most MAX_TYPES_PER_EVENT)."""
    from chalicelib.services.sales.ticket_types import name_claim_key, types_of

    types = types_of(event_id)
    with TicketType.batch_write() as batch:
        for ticket_type in types:
            batch.delete(ticket_type)
    with UniqueClaim.batch_write() as batch:
        for ticket_type in types:
            batch.delete(UniqueClaim(key=name_claim_key(event_id, ticket_type.name)))


def _close_and_clear_tickets(event_id: str, pools: list[Allocation]) -> None:
    """Stop sales on every pool first, then delete the event's tickets and orders in batches."""

    def close(tx: TransactWrite) -> None:
        for pool in pools:
            tx.update(
                pool,
                actions=[Allocation.closed_at.set(utcnow()), Allocation.on_sale.set(False)],
                condition=Allocation.event_id.exists(),
            )

    transactions.write(close)
    event = get_or_none(Event, event_id, consistent_read=True)
    parts = index_parts.event_parts(event_id, event.stock_shard_items if event else None)
    with Ticket.batch_write() as batch:
        for ticket in index_parts.query_parts(Ticket.by_event, parts):
            batch.delete(ticket)
    # Its orders go too: a reserved one would otherwise wait for a pool that is gone.
    with Order.batch_write() as batch:
        for order in index_parts.query_parts(Order.by_event, parts):
            batch.delete(order)
