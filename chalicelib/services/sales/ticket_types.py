"""Ticket types: an event's price categories, sharing its capacity.

Every change of an event's types goes through one transaction that also bumps the event's
`types_version` under a condition on the version read, so parallel changes serialize: the
event's shown `price` (its lowest on-sale type's) and its list of type ids never go stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import ADMIN, SELLER_ROLES, Principal
from chalicelib.db import transactions
from chalicelib.db.allocations import Allocation, type_shares
from chalicelib.db.base import get_or_none, new_id, utcnow
from chalicelib.db.events import Event
from chalicelib.db.ticket_types import DEFAULT_MAX_PER_ORDER, DEFAULT_NAME, UNLIMITED, TicketType
from chalicelib.db.uniques import UniqueClaim, unique_key
from chalicelib.errors import Conflict, InvalidRequest, NotFound, TicketTypeNotFound
from chalicelib.money import from_minor
from chalicelib.services.sales import inventory, stock_shards
from chalicelib.services.sales.events import UNCHANGED, owned_event, price_minor, with_lane_closed
from chalicelib.services.stream.changes import record as record_change

# A type's changes and an order's lines stay far inside one TransactWriteItems (100 items).
MAX_TYPES_PER_EVENT = 20
CHANGE_ATTEMPTS = 3
TYPE_NAME = "ticket-type-name"


@dataclass(frozen=True)
class TypeView:
    ticket_type: TicketType
    available: int


def name_claim_key(event_id: str, name: str) -> str:
    return unique_key(TYPE_NAME, f"{event_id}:{name.casefold()}")


def new_type(
    *,
    event: Event,
    type_id: str | None = None,
    name: str,
    price_minor: int,
    now: datetime,
    description: str | None = None,
    quantity: int | None = None,
    available_from: datetime | None = None,
    available_until: datetime | None = None,
    max_per_order: int = DEFAULT_MAX_PER_ORDER,
    on_sale: bool = True,
) -> TicketType:
    limit = UNLIMITED if quantity is None else quantity
    return TicketType(
        event_id=event.id,
        id=type_id or new_id(),
        name=name,
        description=description,
        price_minor=price_minor,
        currency_code=event.currency_code,
        quantity=limit,
        remaining=limit,
        sold=0,
        held=0,
        available_from=available_from,
        available_until=available_until,
        max_per_order=max_per_order,
        on_sale=on_sale,
        created_at=now,
        updated_at=now,
    )


def default_type(event: Event, now: datetime) -> TicketType:
    """The one type an event created with the original's `price` starts with. Its id is the
    event's, so an order naming no type reads it in its first call, with the event."""
    return new_type(
        event=event, type_id=event.id, name=DEFAULT_NAME, price_minor=event.price_minor, now=now
    )


def add_new_type(tx: TransactWrite, ticket_type: TicketType, owner_id: str) -> None:
    """Put a type and claim its name within the event (a duplicate name refuses the write)."""
    tx.save(ticket_type, condition=TicketType.id.does_not_exist())
    tx.save(
        UniqueClaim(key=name_claim_key(ticket_type.event_id, ticket_type.name), owner_id=owner_id),
        condition=UniqueClaim.key.does_not_exist(),
    )


def types_of(event_id: str) -> list[TicketType]:
    """Every type of an event, oldest first: one Query."""
    found = list(TicketType.query(event_id, consistent_read=True))
    return sorted(found, key=lambda t: (t.created_at, t.id))


def lowest_price(types: tuple[TicketType, ...] | list[TicketType]) -> int | None:
    """The event's shown price: its cheapest type on sale (else its cheapest type)."""
    on_sale = [t.price_minor for t in types if t.on_sale]
    prices = on_sale or [t.price_minor for t in types]
    return min(prices) if prices else None


def sale_closed_reason(ticket_type: TicketType, now: datetime) -> str | None:
    """Why the type cannot be ordered now, or None."""
    if not ticket_type.on_sale:
        return "is not on sale"
    if ticket_type.available_from is not None and now < ticket_type.available_from:
        return f"goes on sale at {ticket_type.available_from.isoformat()}"
    if ticket_type.available_until is not None and now >= ticket_type.available_until:
        return "is no longer on sale"
    return None


def list_types(
    *, actor: Principal | None, event_id: str, seller_id: str | None = None
) -> list[TypeView]:
    """Types with what an order from one seller could take: two Queries (types, pools).

    Anyone sees the types on sale whose window has not ended; the event's organizer and
    admins see all. `available` counts the seller's stock: `seller_id`, else the calling
    seller's own, else the organizer's (where a buyer who names no seller buys).
    """
    types = types_of(event_id)
    pools = {p.seller_id: p for p in inventory.pools_of(event_id)}
    stock_shards.fold(list(pools.values()), types)
    organizer = next((p for p in pools.values() if p.seller_role == inventory.ORGANIZER), None)
    if organizer is None:
        raise NotFound()
    owner = actor is not None and (actor.role == ADMIN or actor.user_id == organizer.seller_id)
    now = utcnow()
    if not owner:
        types = [t for t in types if _shown_to_buyers(t, now)]
    if seller_id is None and actor is not None and actor.role in SELLER_ROLES:
        seller_id = actor.user_id if actor.user_id in pools else None
    pool = pools.get(seller_id or organizer.seller_id)
    # A reseller's stock off sale counts only for that reseller (and the event's owner).
    off_sale = pool is not None and not pool.on_sale and pool.seller_role != inventory.ORGANIZER
    if off_sale and not (owner or (actor is not None and actor.user_id == pool.seller_id)):
        pool = None
    return [TypeView(t, inventory.available_of(t, pool)) for t in types]


def _shown_to_buyers(ticket_type: TicketType, now: datetime) -> bool:
    """On sale, now or later (buyers see it coming, with its `available_from`)."""
    ended = ticket_type.available_until is not None and now >= ticket_type.available_until
    return ticket_type.on_sale and not ended


def get_type(event_id: str, type_id: str) -> TicketType:
    found = get_or_none(TicketType, event_id, type_id, consistent_read=True)
    if found is None:
        raise TicketTypeNotFound()
    return found


def _one_of(types: list[TicketType], type_id: str) -> TicketType:
    found = next((t for t in types if t.id == type_id), None)
    if found is None:
        raise TicketTypeNotFound()
    return found


def _check_window(available_from: datetime | None, available_until: datetime | None) -> None:
    if available_from and available_until and available_from >= available_until:
        raise InvalidRequest(details={"available_until": "Must be after available_from."})


def _event_update(
    tx: TransactWrite, event: Event, types: tuple[TicketType, ...], now: datetime
) -> None:
    """The event's side of a types change: its lowest price and type ids, at the version read."""
    lowest = lowest_price(types)
    actions = [
        Event.ticket_type_ids.set({t.id for t in types}),
        Event.types_version.add(1),
        Event.updated_at.set(now),
    ]
    if lowest is not None:
        actions.append(Event.price_minor.set(lowest))
    tx.update(
        event,
        actions=actions,
        # A parallel change of the types (or the event's currency) refuses this one: retried.
        condition=Event.id.exists() & (Event.types_version == event.types_version),
    )


def _record(
    tx: TransactWrite, type_: str, actor: Principal, event: Event, type_id: str, details: dict
) -> None:
    record_change(
        tx, type_, actor=actor, target_type="ticket_type", target_id=type_id, event_id=event.id,
        details=details, data={"organizer_id": event.organizer_id, "ticket_type_id": type_id},
    )  # fmt: skip


@with_lane_closed
def create_type(
    *,
    actor: Principal,
    event_id: str,
    name: str,
    price: str,
    description: str | None = None,
    quantity: int | None = None,
    available_from: datetime | None = None,
    available_until: datetime | None = None,
    max_per_order: int = DEFAULT_MAX_PER_ORDER,
    on_sale: bool = True,
) -> TicketType:
    _check_window(available_from, available_until)
    for _ in range(CHANGE_ATTEMPTS):
        event = owned_event(actor, event_id)
        types = types_of(event_id)
        if len(types) >= MAX_TYPES_PER_EVENT:
            raise Conflict(
                f"An event can have at most {MAX_TYPES_PER_EVENT} ticket types.",
                code="too_many_ticket_types",
            )
        now = utcnow()
        created = new_type(
            event=event, name=name, price_minor=price_minor(price, event.currency_code), now=now,
            description=description, quantity=quantity, available_from=available_from,
            available_until=available_until, max_per_order=max_per_order, on_sale=on_sale,
        )  # fmt: skip

        def build(
            tx: TransactWrite, event: Event = event, created: TicketType = created,
            after: tuple[TicketType, ...] = (*types, created), now: datetime = now,
        ) -> None:  # fmt: skip
            add_new_type(tx, created, created.id)
            _event_update(tx, event, after, now)
            _record(tx, "ticket_type.created", actor, event, created.id,
                    {"name": name, "price": price, "quantity": quantity})  # fmt: skip

        if transactions.write_unless_refused(build):
            return created
        _refuse_taken_name(event_id, name)
    raise Conflict("The ticket types changed meanwhile; try again.", code="concurrent_change")


def _refuse_taken_name(event_id: str, name: str, own_id: str | None = None) -> None:
    claim = get_or_none(UniqueClaim, name_claim_key(event_id, name), consistent_read=True)
    if claim is not None and claim.owner_id != own_id:
        raise Conflict(
            "This event already has a ticket type of that name.", code="duplicate_ticket_type"
        )


@with_lane_closed
def update_type(
    *,
    actor: Principal,
    event_id: str,
    type_id: str,
    name: str | None = None,
    price: str | None = None,
    description: str | None = UNCHANGED,
    quantity: int | None = UNCHANGED,
    available_from: datetime | None = UNCHANGED,
    available_until: datetime | None = UNCHANGED,
    max_per_order: int | None = None,
    on_sale: bool | None = None,
) -> TicketType:
    """Change any subset; a quantity below sold + held is a 409. Prices apply to later orders."""
    given = {
        "name": name, "price": price, "quantity": quantity, "on_sale": on_sale,
        "max_per_order": max_per_order, "available_from": available_from,
        "available_until": available_until, "description": description,
    }  # fmt: skip
    details = {key: value for key, value in given.items() if value is not UNCHANGED
               and (value is not None or key in _CLEARABLE)}  # fmt: skip
    for _ in range(CHANGE_ATTEMPTS):
        event = owned_event(actor, event_id)
        types = types_of(event_id)
        current = _one_of(types, type_id)
        now = utcnow()
        actions: list = [TicketType.updated_at.set(now)]
        changed = _apply(current, actions, given)
        _check_window(changed.available_from, changed.available_until)
        condition = TicketType.id.exists()
        if quantity is not UNCHANGED:
            new_limit = UNLIMITED if quantity is None else quantity
            delta = new_limit - current.quantity
            actions += [TicketType.quantity.set(new_limit), TicketType.remaining.add(delta)]
            # Against the quantity the delta was computed from, and never below sold + held.
            condition &= (TicketType.quantity == current.quantity) & (
                TicketType.remaining >= -delta
            )
        after = tuple(changed if t.id == type_id else t for t in types)

        def build(
            tx: TransactWrite, event: Event = event, current: TicketType = current,
            actions: list = actions, condition: Any = condition,
            after: tuple[TicketType, ...] = after, now: datetime = now,
        ) -> None:  # fmt: skip
            tx.update(current, actions=actions, condition=condition)
            if name is not None and name.casefold() != current.name.casefold():
                add_claim = UniqueClaim(key=name_claim_key(event_id, name), owner_id=type_id)
                tx.save(add_claim, condition=UniqueClaim.key.does_not_exist())
                tx.delete(UniqueClaim(key=name_claim_key(event_id, current.name)))
            _event_update(tx, event, after, now)
            _record(tx, "ticket_type.updated", actor, event, type_id, details)

        if transactions.write_unless_refused(build):
            return get_type(event_id, type_id)
        if name is not None:
            _refuse_taken_name(event_id, name, own_id=type_id)
        _refuse_below_committed(event_id, type_id, quantity)
    raise Conflict("The ticket types changed meanwhile; try again.", code="concurrent_change")


# Fields whose null means "none" (no own quantity, no window edge, no description).
_CLEARABLE = ("quantity", "available_from", "available_until", "description")


def _apply(current: TicketType, actions: list, given: dict[str, Any]) -> TicketType:
    """Add the plain field changes to `actions`; returns the type as it will read after them
    (for the event's lowest price and the window check)."""
    changed = TicketType.from_raw_data(current.serialize())
    for field in ("name", "on_sale", "max_per_order"):
        value = given[field]
        if value is not None:
            actions.append(getattr(TicketType, field).set(value))
            setattr(changed, field, value)
    for field in ("description", "available_from", "available_until"):
        value = given[field]
        if value is UNCHANGED:
            continue
        attribute = getattr(TicketType, field)
        actions.append(attribute.remove() if value is None else attribute.set(value))
        setattr(changed, field, value)
    if given["price"] is not None:
        changed.price_minor = price_minor(given["price"], current.currency_code)
        actions.append(TicketType.price_minor.set(changed.price_minor))
    return changed


def _refuse_below_committed(event_id: str, type_id: str, quantity: Any) -> None:
    """Raise when a refused quantity change would go below sold + held; else return (retry)."""
    if quantity is UNCHANGED:
        return
    now = get_type(event_id, type_id)
    committed = now.sold + now.held
    if quantity is not None and quantity < committed:
        raise Conflict(
            f"quantity cannot go below the {committed} tickets sold or held.",
            code="below_sold_and_held",
            details={"sold": int(now.sold), "held": int(now.held)},
        )


@with_lane_closed
def delete_type(*, actor: Principal, event_id: str, type_id: str) -> None:
    """Only while nothing of it is sold or held and no reseller holds a share of it; an event
    keeps at least one type."""
    for _ in range(CHANGE_ATTEMPTS):
        event = owned_event(actor, event_id)
        types = types_of(event_id)
        current = _one_of(types, type_id)
        if len(types) == 1:
            raise Conflict(
                "An event sells at least one ticket type; change this one instead.",
                code="last_ticket_type",
            )
        _refuse_in_use(current)
        resellers = [p for p in inventory.pools_of(event_id) if p.seller_role == inventory.RESELLER]
        if any(type_id in type_shares(p) for p in resellers):
            raise Conflict(
                "Resellers hold shares of this ticket type; remove those allocations first.",
                code="ticket_type_allocated",
            )
        now = utcnow()

        def build(
            tx: TransactWrite, event: Event = event, current: TicketType = current,
            resellers: tuple[Allocation, ...] = tuple(resellers),
            after: tuple[TicketType, ...] = tuple(t for t in types if t.id != type_id),
            now: datetime = now,
        ) -> None:  # fmt: skip
            tx.delete(current, condition=(TicketType.sold == 0) & (TicketType.held == 0))
            tx.delete(UniqueClaim(key=name_claim_key(event_id, current.name)))
            for pool in resellers:
                # A share of this type given meanwhile refuses the delete.
                tx.condition_check(
                    Allocation, pool.event_id, pool.seller_id,
                    condition=Allocation.types[type_id].does_not_exist(),
                )  # fmt: skip
            _event_update(tx, event, after, now)
            _record(tx, "ticket_type.deleted", actor, event, type_id, {"name": current.name})

        if transactions.write_unless_refused(build):
            return
        _refuse_in_use(get_type(event_id, type_id))
    raise Conflict("The ticket types changed meanwhile; try again.", code="concurrent_change")


def _refuse_in_use(ticket_type: TicketType) -> None:
    if ticket_type.sold or ticket_type.held:
        raise Conflict(
            "Tickets of this type were sold or are held; set on_sale to false instead.",
            code="ticket_type_in_use",
        )


def price_of(ticket_type: TicketType) -> str:
    return from_minor(ticket_type.price_minor, ticket_type.currency_code)
