"""Sold tickets: who may see them, an admin moving one to another buyer or cancelling it
(its seat back to its seller in the same transaction)."""

from __future__ import annotations

import logging
from datetime import datetime

from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib.auth import ticket_keys
from chalicelib.auth.principal import Principal
from chalicelib.db import transactions
from chalicelib.db.base import get_or_none, utcnow
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.db.tickets import LIVE, Holder, Ticket
from chalicelib.errors import (
    AlreadyCheckedIn,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TicketCancelled,
)
from chalicelib.services.sales import inventory, refunds, stock
from chalicelib.services.sales.buyers import BuyerDetails, BuyerWrite, read_buyer_write
from chalicelib.services.sales.sales_scope import sales_query
from chalicelib.services.stream.changes import record as record_change

# A cancellation refused because a refund of its order raced is tried again.
CANCEL_ATTEMPTS = 3

log = logging.getLogger(__name__)

BUYER_CHANGE_ATTEMPTS = 3


def qr_of(ticket: Ticket) -> str:
    """The ticket's signed `qr`; a ticket sold before tickets were signed is signed now."""
    return ticket.qr or ticket_keys.sign_ticket(
        ticket_id=ticket.id, event_id=ticket.event_id, code=ticket.code,
        issued_at=ticket.created_at,
    )  # fmt: skip


def list_tickets(
    *, actor: Principal, event_id: str | None, limit: int, next_token: str | None
) -> Page[Ticket]:
    """Admins see all tickets, organizers those of their events, resellers their own sales."""
    query = sales_query(Ticket, actor=actor, event_id=event_id)
    scope = f"tickets:{actor.role}:{actor.user_id}:event={event_id}"
    return fetch_page(Ticket, query, scope=scope, limit=limit, next_token=next_token)


def get_ticket(*, actor: Principal, ticket_id: str) -> Ticket:
    ticket = get_or_none(Ticket, ticket_id, consistent_read=True)
    if ticket is None:
        raise NotFound()
    if not (actor.is_admin or actor.user_id in (ticket.organizer_id, ticket.seller_id)):
        raise Forbidden()
    return ticket


def change_buyer(*, actor: Principal, ticket_id: str, buyer: BuyerDetails) -> Ticket:
    """An admin moves a ticket to another buyer (found or created by email), who holds it."""
    if not actor.is_admin:
        raise Forbidden()
    ticket = get_ticket(actor=actor, ticket_id=ticket_id)
    for _ in range(BUYER_CHANGE_ATTEMPTS):
        buyer_part = read_buyer_write(buyer)

        def build(tx: TransactWrite, buyer_part: BuyerWrite = buyer_part) -> None:
            tx.update(
                ticket,
                actions=[
                    Ticket.buyer_id.set(buyer_part.buyer.id),
                    Ticket.holder.set(Holder(name=buyer.name, phone=buyer.phone)),
                ],
                condition=Ticket.id.exists() & LIVE,
            )
            buyer_part.add_to(tx)
            record_change(
                tx, "ticket.buyer_changed", actor=actor, target_type="ticket",
                target_id=ticket.id, event_id=ticket.event_id,
                details={"from": ticket.buyer_id, "to": buyer_part.buyer.id},
                data=ticket_data(ticket),
            )  # fmt: skip

        if ticket.is_cancelled:
            raise TicketCancelled()
        if not transactions.write_unless_refused(build):
            live_ticket(ticket_id)
            continue  # the buyer raced: look it up again
        ticket.refresh(consistent_read=True)
        return ticket
    raise ServiceUnavailable("The ticket could not be updated; try again.", code="storage_busy")


def cancel_ticket(*, actor: Principal, ticket_id: str) -> None:
    """An admin cancels a ticket: it stays as a tombstone (`cancelled_at`, listed among the
    event's revoked tickets) and its seat goes back to the seller's pool in the same write."""
    if not actor.is_admin:
        raise Forbidden()
    ticket = get_ticket(actor=actor, ticket_id=ticket_id)
    for _ in range(CANCEL_ATTEMPTS):
        refuse_cancelled_or_checked_in(ticket)
        refund = refunds.offline_ticket_refund(ticket, "organizer")

        def build(
            tx: TransactWrite, ticket: Ticket = ticket, refund: refunds.TicketRefund | None = refund
        ) -> None:
            add_cancellation(tx, ticket, utcnow(), actor=actor, refund=refund)

        if transactions.write_unless_refused(build):
            return
        # Refused: the ticket changed (explained below), or a refund of its order raced.
        ticket = live_ticket(ticket_id)
    explain_refused_cancellation(ticket_id)


def ticket_data(ticket: Ticket) -> dict[str, str]:
    """What a ticket's change tells the stream's consumers: whom it concerns."""
    return {"ticket_id": ticket.id, "seller_id": ticket.seller_id,
            "organizer_id": ticket.organizer_id, "buyer_id": ticket.buyer_id}  # fmt: skip


def refuse_cancelled_or_checked_in(ticket: Ticket) -> None:
    if ticket.is_cancelled:
        raise TicketCancelled()
    if ticket.is_checked_in:
        raise AlreadyCheckedIn(ticket.checked_in_at)


def add_cancellation(
    tx: TransactWrite,
    ticket: Ticket,
    now: datetime,
    *,
    actor: Principal,
    condition: Condition | None = None,
    refund: refunds.TicketRefund | None = None,
) -> None:
    """Tombstone the ticket, give its seat back to its seller's pool and record it, in one
    transaction; `condition` adds to the ticket's own (live, not checked in). `refund`: the
    refund of its price recorded on its order (paid outside the API) in the same write."""
    live = Ticket.id.exists() & LIVE & Ticket.checked_in_at.does_not_exist()
    tx.update(
        ticket,
        actions=[Ticket.cancelled_at.set(now), Ticket.revoked_event_id.set(ticket.event_id)],
        # Cancelled once: a second, parallel cancel must not give the seat back twice.
        condition=live & condition if condition is not None else live,
    )
    stock.add_release(
        tx, place=stock.place_of_ticket(ticket), event_id=ticket.event_id,
        seller_id=ticket.seller_id,
        by_reseller=ticket.seller_id != ticket.organizer_id,
        # A ticket sold before ticket types has its event's first type (the setup step names it).
        lines=[inventory.Line(ticket.ticket_type_id or ticket.event_id, 1)],
        state=inventory.SOLD, now=now,
        refunded=refunds.add_order_refund(tx, refund.order, refund.plan, refund.entry)
        if refund is not None else None,
    )  # fmt: skip
    record_change(
        tx, "ticket.cancelled", actor=actor, target_type="ticket", target_id=ticket.id,
        event_id=ticket.event_id, details={"by": actor.role or ""}, data=ticket_data(ticket),
    )  # fmt: skip


def live_ticket(ticket_id: str) -> Ticket:
    """The ticket as it is now (a consistent read), or NotFound / TicketCancelled: what a
    refused write on a ticket reads to tell why."""
    current = get_or_none(Ticket, ticket_id, consistent_read=True)
    if current is None:
        raise NotFound()
    if current.is_cancelled:
        raise TicketCancelled()
    return current


def explain_refused_cancellation(ticket_id: str) -> None:
    """Raise why a cancellation's transaction was refused (read again, consistently)."""
    refuse_cancelled_or_checked_in(live_ticket(ticket_id))
    raise NotFound()  # its pool is gone: the event was deleted meanwhile
