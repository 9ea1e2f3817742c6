"""Reseller allocations: moving shares of an event's tickets, per ticket type, between the
organizer's pool and resellers' pools, resellers offering theirs, and who sells an event now."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import RESELLER, Principal, require_role
from chalicelib.db import transactions
from chalicelib.db.allocations import Allocation, type_shares
from chalicelib.db.base import get_or_none, utcnow
from chalicelib.db.events import Event
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.db.ticket_types import TicketType
from chalicelib.db.users import User
from chalicelib.errors import (
    Conflict,
    InvalidRequest,
    NotEnoughToResell,
    NotFound,
    TicketTypeNotFound,
)
from chalicelib.services.sales import inventory, stock_shards
from chalicelib.services.sales.events import get_event, owned_event, with_lane_closed
from chalicelib.services.stream.changes import record as record_change

# A TransactWriteItems holds at most 100 items; deleting an event touches every pool at once.
MAX_RESELLERS_PER_EVENT = 50
MOVE_ATTEMPTS = 3


@dataclass(frozen=True)
class Share:
    """One row of the allocation lists: a reseller's share of one ticket type."""

    pool: Allocation
    ticket_type_id: str
    counts: dict[str, int]  # share, sold, held, available

    @property
    def reseller_id(self) -> str:
        return self.pool.seller_id


@dataclass(frozen=True)
class ResellerAllocation:
    share: Share
    event: Event
    ticket_type_name: str | None


@dataclass(frozen=True)
class Offer:
    pool: Allocation
    seller: User | None
    event: Event


def shares_of(pool: Allocation) -> list[Share]:
    return [Share(pool, type_id, counts) for type_id, counts in sorted(type_shares(pool).items())]


def _reseller(reseller_id: str) -> User:
    user = get_or_none(User, reseller_id)
    if user is None or user.role != RESELLER:
        raise InvalidRequest(details={"reseller_id": "Not a reseller."})
    return user


def type_of_request(event: Event, ticket_type_id: str | None) -> str:
    """The type an allocation names: the event's only one when it names none."""
    if ticket_type_id is None:
        if len(event.ticket_type_ids) != 1:
            raise InvalidRequest(
                details={"ticket_type_id": "Required: this event sells several ticket types."}
            )
        (ticket_type_id,) = event.ticket_type_ids
    if ticket_type_id not in event.ticket_type_ids:
        raise TicketTypeNotFound()
    return ticket_type_id


def event_allocations(*, actor: Principal, event_id: str) -> list[Share]:
    owned_event(actor, event_id)
    pools = [p for p in inventory.pools_of(event_id) if p.seller_role == inventory.RESELLER]
    return [share for pool in pools for share in shares_of(pool)]


def _move(
    actor: Principal,
    event: Event,
    reseller_id: str,
    type_id: str,
    target: int,
    *,
    removing: bool = False,
) -> None:
    """Set a reseller's share of one type to `target`, moving the difference to or from the
    organizer's pool in one transaction with conditions on both sides."""
    for _ in range(MOVE_ATTEMPTS):
        pools = inventory.pools_of(event.id)
        current = next((p for p in pools if p.seller_id == reseller_id), None)
        entry = type_shares(current).get(type_id) if current is not None else None
        if entry is None and removing:
            raise NotFound("This reseller has no allocation of this ticket type for the event.")
        if current is None and sum(p.seller_role == inventory.RESELLER for p in pools) >= (
            MAX_RESELLERS_PER_EVENT
        ):
            raise Conflict(
                f"An event can have at most {MAX_RESELLERS_PER_EVENT} reseller allocations.",
                code="too_many_allocations",
            )
        if removing:
            target = entry["sold"] + entry["held"]
        share = entry["share"] if entry else 0
        if entry is not None and target == share and not removing:
            return
        build = functools.partial(
            _write_move, actor=actor, event=event, reseller_id=reseller_id, type_id=type_id,
            current=current, share=share, target=target, removing=removing,
        )  # fmt: skip
        if transactions.write_unless_refused(build):
            return
        _explain_refused_move(event, reseller_id, type_id, target, share)
    raise Conflict("The allocation changed while updating it; try again.", code="concurrent_change")


def _entry(share: int, sold: int = 0, held: int = 0) -> dict[str, int]:
    return {"share": share, "sold": sold, "held": held, "available": share - sold - held}


def _write_move(
    tx: TransactWrite,
    *,
    actor: Principal,
    event: Event,
    reseller_id: str,
    type_id: str,
    current: Allocation | None,
    share: int,
    target: int,
    removing: bool,
) -> None:
    delta = target - share
    now = utcnow()
    _record(tx, actor, event, reseller_id, {"ticket_type_id": type_id, "number_of_tickets": target,
            "was": share, "removed": removing})  # fmt: skip
    # Organizer side: it must still have `delta` unsold tickets to hand over.
    tx.update(
        Allocation(event_id=event.id, seller_id=event.organizer_id),
        actions=[
            Allocation.number_of_tickets.add(-delta),
            Allocation.available.add(-delta),
            Allocation.updated_at.set(now),
        ],
        condition=Allocation.event_id.exists()
        & Allocation.closed_at.does_not_exist()
        & (Allocation.available >= delta),
    )
    # The type must still be the event's (a type deleted meanwhile refuses the move).
    tx.condition_check(TicketType, event.id, type_id, condition=TicketType.id.exists())
    if current is None:
        tx.update(event, actions=[Event.seller_ids.add({reseller_id})], condition=Event.id.exists())
        pool = inventory.new_pool(
            event_id=event.id, seller_id=reseller_id, seller_role=inventory.RESELLER,
            share=target, now=now,
        )  # fmt: skip
        pool.types = {type_id: _entry(target)}
        tx.save(pool, condition=Allocation.event_id.does_not_exist())
        return
    entry = Allocation.types[type_id]
    others = {k: v for k, v in type_shares(current).items() if k != type_id}
    if removing and target == 0 and not others and not current.gross_minor:
        # The reseller's last share goes: so does its pool, if nothing changed meanwhile (a pool
        # that ever sold keeps its money counters for the reports, with nothing left to sell).
        tx.update(event, actions=[Event.seller_ids.delete({reseller_id})],
                  condition=Event.id.exists())  # fmt: skip
        never_sold = Allocation.gross_minor.does_not_exist() | (Allocation.gross_minor == 0)
        tx.delete(current, condition=(Allocation.number_of_tickets == current.number_of_tickets)
                  & (Allocation.sold == 0) & (Allocation.held == 0) & never_sold)  # fmt: skip
        return
    actions = [
        Allocation.number_of_tickets.add(delta),
        Allocation.available.add(delta),
        Allocation.updated_at.set(now),
    ]
    if type_id not in type_shares(current):
        actions.append(entry.set(_entry(target)))
        condition = entry.does_not_exist()
    elif removing and target == 0 and not type_shares(current)[type_id].get("gross"):
        actions.append(entry.remove())
        # Nothing of it sold or held since it was read.
        condition = (entry["share"] == share) & (entry["available"] == share)
    else:
        actions += [entry["share"].set(target), entry["available"].set(entry["available"] + delta)]
        # The share the delta was computed from must be unchanged (a parallel change would
        # make it wrong), and the share cannot drop below what was sold or held.
        condition = (entry["share"] == share) & (entry["available"] >= -delta)
    if removing:
        actions.append(Allocation.on_sale.set(False))
    tx.update(current, actions=actions,
              condition=condition & Allocation.closed_at.does_not_exist())  # fmt: skip


def _record(
    tx: TransactWrite, actor: Principal, event: Event, reseller_id: str, details: dict
) -> None:
    record_change(
        tx, "allocation.changed", actor=actor, target_type="allocation",
        target_id=f"{event.id}/{reseller_id}", event_id=event.id,
        details={"reseller_id": reseller_id, **details},
        data={"organizer_id": event.organizer_id, "reseller_id": reseller_id},
    )  # fmt: skip


def _explain_refused_move(
    event: Event, reseller_id: str, type_id: str, target: int, share: int
) -> None:
    """Read what the refused transaction saw; raise the rule it broke, or return to retry."""
    pools = inventory.pools_of(event.id)
    organizer = inventory.organizer_pool(event, pools)
    current = next((p for p in pools if p.seller_id == reseller_id), None)
    if organizer is None or organizer.closed_at is not None:
        raise NotFound()
    entry = type_shares(current).get(type_id) if current is not None else None
    now_share = entry["share"] if entry else 0
    if now_share != share:
        return  # changed in parallel: compute again
    committed = entry["sold"] + entry["held"] if entry else 0
    if committed > target:
        raise Conflict(
            f"The reseller already sold or holds {committed} tickets of this type; the "
            "allocation cannot go lower.",
            code="below_sold",
        )
    if organizer.available < target - share:
        raise NotEnoughToResell(details={"organizer_available": str(organizer.available)})
    if get_or_none(TicketType, event.id, type_id) is None:
        raise TicketTypeNotFound()


@with_lane_closed
def set_allocation(
    *,
    actor: Principal,
    event_id: str,
    reseller_id: str,
    number_of_tickets: int,
    ticket_type_id: str | None = None,
) -> Share:
    event = owned_event(actor, event_id)
    type_id = type_of_request(event, ticket_type_id)
    _reseller(reseller_id)
    _move(actor, event, reseller_id, type_id, number_of_tickets)
    pool = Allocation.get(event_id, reseller_id, consistent_read=True)
    return Share(pool, type_id, type_shares(pool)[type_id])


@with_lane_closed
def remove_allocation(
    *, actor: Principal, event_id: str, reseller_id: str, ticket_type_id: str | None = None
) -> None:
    """Give the reseller's unsold tickets of a type back to the organizer; sold ones stay sold."""
    event = owned_event(actor, event_id)
    _move(actor, event, reseller_id, type_of_request(event, ticket_type_id), 0, removing=True)


def my_allocations(
    *, actor: Principal, limit: int, next_token: str | None
) -> Page[ResellerAllocation]:
    """A page of my pools (one per event), one row per ticket type I was given."""
    require_role(actor, RESELLER)
    page = fetch_page(
        Allocation,
        lambda **kw: Allocation.by_seller.query(actor.user_id, **kw),
        scope=f"allocations:{actor.user_id}",
        limit=limit,
        next_token=next_token,
    )
    return Page(items=_rows(page.items), next_token=page.next_token)


def _rows(pools: list[Allocation]) -> list[ResellerAllocation]:
    """Each pool's rows with its event and type names: two BatchGetItems for a whole page."""
    events = {e.id: e for e in Event.batch_get({p.event_id for p in pools})} if pools else {}
    keys = {(p.event_id, type_id) for p in pools for type_id in type_shares(p)}
    names = {(t.event_id, t.id): t.name for t in TicketType.batch_get(keys)} if keys else {}
    return [
        ResellerAllocation(share, events[p.event_id], names.get((p.event_id, share.ticket_type_id)))
        for p in pools
        if p.event_id in events
        for share in shares_of(p)
    ]


def set_on_sale(*, actor: Principal, event_id: str, on_sale: bool) -> list[ResellerAllocation]:
    """A reseller offers its available tickets (every type it holds) to buyers, or withdraws
    them."""
    require_role(actor, RESELLER)
    event = get_event(event_id)
    pool = Allocation(event_id=event_id, seller_id=actor.user_id)

    def build(tx: TransactWrite) -> None:
        tx.update(
            pool,
            actions=[Allocation.on_sale.set(on_sale), Allocation.updated_at.set(utcnow())],
            condition=Allocation.event_id.exists() & Allocation.closed_at.does_not_exist(),
        )
        _record(tx, actor, event, actor.user_id, {"on_sale": on_sale})

    if not transactions.write_unless_refused(build):
        raise NotFound("You have no allocation for this event.")
    pool.refresh(consistent_read=True)
    return _rows([pool])


def offers(*, event_id: str) -> list[Offer]:
    """Who sells this event now: the organizer's remaining tickets and every reseller
    allocation on sale with tickets left."""
    event = get_event(event_id)
    pools = inventory.pools_of(event_id)
    stock_shards.fold(pools)
    selling = [
        p
        for p in pools
        if p.available > 0
        and p.closed_at is None
        and (p.seller_id == event.organizer_id or p.on_sale)
    ]
    sellers = {u.id: u for u in User.batch_get({p.seller_id for p in selling})} if selling else {}
    selling.sort(key=lambda p: (p.seller_id != event.organizer_id, p.seller_id))
    return [Offer(pool=p, seller=sellers.get(p.seller_id), event=event) for p in selling]
