"""Reseller allocations: moving shares of an event's tickets between the organizer's pool and
resellers' pools, resellers offering theirs, and who sells an event now."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import RESELLER, Principal, require_role
from chalicelib.db import transactions
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import get_or_none, utcnow
from chalicelib.db.events import Event
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.db.users import User
from chalicelib.errors import Conflict, InvalidRequest, NotEnoughToResell, NotFound
from chalicelib.services import inventory
from chalicelib.services.changes import record as record_change
from chalicelib.services.events import get_event, owned_event

# A TransactWriteItems holds at most 100 items; deleting an event touches every pool at once.
MAX_RESELLERS_PER_EVENT = 50
MOVE_ATTEMPTS = 3


@dataclass(frozen=True)
class ResellerAllocation:
    allocation: Allocation
    event: Event


@dataclass(frozen=True)
class Offer:
    pool: Allocation
    seller: User | None
    event: Event


def _reseller(reseller_id: str) -> User:
    user = get_or_none(User, reseller_id)
    if user is None or user.role != RESELLER:
        raise InvalidRequest(details={"reseller_id": "Not a reseller."})
    return user


def event_allocations(*, actor: Principal, event_id: str) -> list[Allocation]:
    owned_event(actor, event_id)
    return [p for p in inventory.pools_of(event_id) if p.seller_role == inventory.RESELLER]


def _move(
    actor: Principal, event: Event, reseller_id: str, target: int, *, removing: bool = False
) -> None:
    """Set a reseller's share to `target`, moving the difference to or from the organizer's
    pool in one transaction with conditions on both sides."""
    for _ in range(MOVE_ATTEMPTS):
        pools = inventory.pools_of(event.id)
        current = next((p for p in pools if p.seller_id == reseller_id), None)
        if current is None and removing:
            raise NotFound("This reseller has no allocation for the event.")
        if current is None and sum(p.seller_role == inventory.RESELLER for p in pools) >= (
            MAX_RESELLERS_PER_EVENT
        ):
            raise Conflict(
                f"An event can have at most {MAX_RESELLERS_PER_EVENT} reseller allocations.",
                code="too_many_allocations",
            )
        if removing:
            target = current.sold
        share = current.number_of_tickets if current else 0
        if current is not None and target == share and not removing:
            return
        build = functools.partial(
            _write_move,
            actor=actor,
            event=event,
            reseller_id=reseller_id,
            current=current,
            target=target,
            removing=removing,
        )
        if transactions.write_unless_refused(build):
            return
        _explain_refused_move(event, reseller_id, target, share)
    raise Conflict("The allocation changed while updating it; try again.", code="concurrent_change")


def _write_move(
    tx: TransactWrite,
    *,
    actor: Principal,
    event: Event,
    reseller_id: str,
    current: Allocation | None,
    target: int,
    removing: bool,
) -> None:
    share = current.number_of_tickets if current else 0
    delta = target - share
    now = utcnow()
    _record(tx, actor, event, reseller_id, {"number_of_tickets": target, "was": share,
            "removed": removing})  # fmt: skip
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
    if current is None:
        tx.update(
            event,
            actions=[Event.seller_ids.add({reseller_id})],
            condition=Event.id.exists(),
        )
        tx.save(
            inventory.new_pool(
                event_id=event.id,
                seller_id=reseller_id,
                seller_role=inventory.RESELLER,
                share=target,
                now=now,
            ),
            condition=Allocation.event_id.does_not_exist(),
        )
        return
    # Reseller side: the share the delta was computed from must be unchanged (a parallel
    # change would make it wrong), and the share cannot drop below what was already sold.
    condition = (
        (Allocation.number_of_tickets == share)
        & Allocation.closed_at.does_not_exist()
        & (Allocation.available >= -delta)
    )
    if removing and target == 0:
        tx.update(
            event,
            actions=[Event.seller_ids.delete({reseller_id})],
            condition=Event.id.exists(),
        )
        tx.delete(current, condition=condition & (Allocation.sold == 0))
        return
    actions = [
        Allocation.number_of_tickets.set(target),
        Allocation.available.add(delta),
        Allocation.updated_at.set(now),
    ]
    if removing:
        actions.append(Allocation.on_sale.set(False))
    tx.update(current, actions=actions, condition=condition)


def _record(
    tx: TransactWrite, actor: Principal, event: Event, reseller_id: str, details: dict
) -> None:
    record_change(
        tx, "allocation.changed", actor=actor, target_type="allocation",
        target_id=f"{event.id}/{reseller_id}", event_id=event.id,
        details={"reseller_id": reseller_id, **details},
        data={"organizer_id": event.organizer_id, "reseller_id": reseller_id},
    )  # fmt: skip


def _explain_refused_move(event: Event, reseller_id: str, target: int, share: int) -> None:
    """Read what the refused transaction saw; raise the rule it broke, or return to retry."""
    pools = inventory.pools_of(event.id)
    organizer = inventory.organizer_pool(event, pools)
    current = next((p for p in pools if p.seller_id == reseller_id), None)
    if organizer is None or organizer.closed_at is not None:
        raise NotFound()
    now_share = current.number_of_tickets if current else 0
    if now_share != share:
        return  # changed in parallel: compute again
    if current is not None and current.sold > target:
        raise Conflict(
            f"The reseller already sold {current.sold} tickets; the allocation cannot go lower.",
            code="below_sold",
        )
    if organizer.available < target - share:
        raise NotEnoughToResell(details={"organizer_available": str(organizer.available)})


def set_allocation(
    *, actor: Principal, event_id: str, reseller_id: str, number_of_tickets: int
) -> Allocation:
    event = owned_event(actor, event_id)
    _reseller(reseller_id)
    _move(actor, event, reseller_id, number_of_tickets)
    return Allocation.get(event_id, reseller_id, consistent_read=True)


def remove_allocation(*, actor: Principal, event_id: str, reseller_id: str) -> None:
    """Give the reseller's unsold tickets back to the organizer; sold ones stay sold."""
    event = owned_event(actor, event_id)
    _move(actor, event, reseller_id, 0, removing=True)


def my_allocations(
    *, actor: Principal, limit: int, next_token: str | None
) -> Page[ResellerAllocation]:
    require_role(actor, RESELLER)
    page = fetch_page(
        Allocation,
        lambda **kw: Allocation.by_seller.query(actor.user_id, **kw),
        scope=f"allocations:{actor.user_id}",
        limit=limit,
        next_token=next_token,
    )
    events = {e.id: e for e in Event.batch_get({p.event_id for p in page.items})}
    return Page(
        items=[
            ResellerAllocation(allocation=p, event=events[p.event_id])
            for p in page.items
            if p.event_id in events
        ],
        next_token=page.next_token,
    )


def set_on_sale(*, actor: Principal, event_id: str, on_sale: bool) -> ResellerAllocation:
    """A reseller offers its available tickets to buyers, or withdraws them."""
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
    return ResellerAllocation(allocation=pool, event=event)


def offers(*, event_id: str) -> list[Offer]:
    """Who sells this event now: the organizer's remaining tickets and every reseller
    allocation on sale with tickets left."""
    event = get_event(event_id)
    selling = [
        p
        for p in inventory.pools_of(event_id)
        if p.available > 0
        and p.closed_at is None
        and (p.seller_id == event.organizer_id or p.on_sale)
    ]
    sellers = {u.id: u for u in User.batch_get({p.seller_id for p in selling})} if selling else {}
    selling.sort(key=lambda p: (p.seller_id != event.organizer_id, p.seller_id))
    return [Offer(pool=p, seller=sellers.get(p.seller_id), event=event) for p in selling]
