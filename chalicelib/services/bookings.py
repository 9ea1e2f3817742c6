"""Bookings (sold tickets): never more than a pool holds, whatever runs in parallel."""

from __future__ import annotations

import functools
import logging
import secrets
from dataclasses import dataclass

from pynamodb.exceptions import PynamoDBException
from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import ADMIN, ORGANIZER, RESELLER, SELLER_ROLES, Principal
from chalicelib.db import transactions
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import get_or_none, new_id, utcnow
from chalicelib.db.bookings import Holder, Ticket
from chalicelib.db.events import Event
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.email.addresses import normalize_email
from chalicelib.email.messages import booking_confirmation
from chalicelib.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    SoldOut,
)
from chalicelib.money import from_minor
from chalicelib.services import idempotency, notifications
from chalicelib.services.buyers import BuyerDetails, BuyerWrite, buyer_write
from chalicelib.services.events import get_event, owned_event

log = logging.getLogger(__name__)

BOOKING_ATTEMPTS = 3
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud


@dataclass(frozen=True)
class Booking:
    tickets: list[Ticket]
    email_sent: bool


def ticket_code() -> str:
    """12 random characters from 32 (60 bits), grouped for reading: ABCD-EFGH-JKLM."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _seller_for(actor: Principal | None, event: Event, seller_id: str | None) -> tuple[str, bool]:
    """Who sells, and whether the caller is that seller (who may sell while off sale)."""
    if actor is not None and actor.role in SELLER_ROLES and seller_id in (None, actor.user_id):
        return actor.user_id, True
    # Anonymous buyers who name no seller buy from the organizer, whose tickets are always
    # on sale.
    return seller_id or event.organizer_id, False


def book(
    *,
    actor: Principal | None,
    event_id: str,
    seller_id: str | None,
    quantity: int,
    buyer: BuyerDetails,
    idempotency_key: str | None = None,
) -> Booking:
    event = get_event(event_id)
    seller_id, own_pool = _seller_for(actor, event, seller_id)
    lease = None
    if idempotency_key is not None:
        outcome = idempotency.begin(
            scope=actor.user_id if actor else "anonymous",
            key=idempotency_key,
            fingerprint=idempotency.fingerprint(
                event_id, seller_id, quantity, normalize_email(buyer.email), buyer.name, buyer.phone
            ),
        )
        if isinstance(outcome, idempotency.Replay):
            return _replayed(outcome.result)
        lease = outcome
    try:
        # Counted before selling: past the hourly email ceiling nothing is booked.
        notifications.reserve(buyer.email)
        tickets = _sell(event, seller_id, own_pool, quantity, buyer, lease)
    except BaseException:
        if lease is not None:
            idempotency.release(lease)
        raise
    email_sent = _confirm(event, tickets, buyer)
    if lease is not None:
        try:
            idempotency.amend_result(
                lease, {"ticket_ids": [t.id for t in tickets], "email_sent": email_sent}
            )
        except PynamoDBException:
            log.exception("could not record email outcome for idempotency key %s", lease.key)
    return Booking(tickets=tickets, email_sent=email_sent)


def _replayed(result: dict) -> Booking:
    tickets = {t.id: t for t in Ticket.batch_get(result["ticket_ids"])}
    return Booking(
        tickets=[tickets[i] for i in result["ticket_ids"] if i in tickets],
        email_sent=bool(result.get("email_sent")),
    )


def _sell(
    event: Event,
    seller_id: str,
    own_pool: bool,
    quantity: int,
    buyer: BuyerDetails,
    lease: idempotency.Lease | None,
) -> list[Ticket]:
    if event.time <= utcnow():
        raise Conflict("This event has already taken place.", code="event_over")
    for _ in range(BOOKING_ATTEMPTS):
        buyer_part = buyer_write(buyer)
        now = utcnow()
        tickets = [
            Ticket(
                id=new_id(),
                event_id=event.id,
                seller_id=seller_id,
                organizer_id=event.organizer_id,
                buyer_id=buyer_part.buyer.id,
                holder=Holder(name=buyer.name, phone=buyer.phone),
                code=ticket_code(),
                price_minor=event.price_minor,
                currency_code=event.currency_code,
                created_at=now,
            )
            for _ in range(quantity)
        ]
        build = functools.partial(
            _write_sale,
            pool=Allocation(event_id=event.id, seller_id=seller_id),
            own_pool=own_pool,
            tickets=tickets,
            buyer_part=buyer_part,
            lease=lease,
        )
        if transactions.write_unless_refused(build):
            return tickets
        _explain_refused_sale(event, seller_id, own_pool, quantity)
    raise ServiceUnavailable("The booking could not be completed; try again.", code="storage_busy")


def _write_sale(
    tx: TransactWrite,
    *,
    pool: Allocation,
    own_pool: bool,
    tickets: list[Ticket],
    buyer_part: BuyerWrite,
    lease: idempotency.Lease | None,
) -> None:
    quantity = len(tickets)
    # The whole inventory rule: the pool must still hold `quantity` tickets at write time.
    condition = (
        Allocation.event_id.exists()
        & Allocation.closed_at.does_not_exist()
        & (Allocation.available >= quantity)
    )
    if not own_pool:
        condition &= Allocation.on_sale == True  # noqa: E712 - a DynamoDB condition, not a test
    tx.update(
        pool,
        actions=[
            Allocation.available.add(-quantity),
            Allocation.sold.add(quantity),
            Allocation.updated_at.set(utcnow()),
        ],
        condition=condition,
    )
    for ticket in tickets:
        tx.save(ticket, condition=Ticket.id.does_not_exist())
    buyer_part.add_to(tx)
    if lease is not None:
        idempotency.complete_in(tx, lease, {"ticket_ids": [t.id for t in tickets]})


def _explain_refused_sale(event: Event, seller_id: str, own_pool: bool, quantity: int) -> None:
    """Raise the rule the refused booking broke, or return when only the buyer part raced."""
    pool = get_or_none(Allocation, event.id, seller_id, consistent_read=True)
    if pool is None:
        raise NotFound("This seller does not sell tickets for the event.", code="seller_not_found")
    if pool.closed_at is not None:
        raise Conflict("This event is closed for booking.", code="event_closed")
    if not own_pool and not pool.on_sale:
        raise Conflict("This seller is not offering tickets for the event.", code="not_on_sale")
    if pool.available < quantity:
        raise SoldOut(details={"available": str(pool.available)})


def _confirm(event: Event, tickets: list[Ticket], buyer: BuyerDetails) -> bool:
    """Email the codes (already counted against the ceiling); a failure is logged and reported,
    and the booking stands."""
    message = booking_confirmation(
        to=normalize_email(buyer.email),
        name=buyer.name,
        event_title=event.title,
        event_time=event.time,
        codes=[t.code for t in tickets],
        price=from_minor(event.price_minor, event.currency_code),
        currency_code=event.currency_code,
    )
    return notifications.send(message)


def list_tickets(
    *, actor: Principal, event_id: str | None, limit: int, next_token: str | None
) -> Page[Ticket]:
    """Admins see all tickets, organizers those of their events, resellers their own sales."""
    if event_id and actor.role in (ADMIN, ORGANIZER):
        if actor.role == ORGANIZER:
            owned_event(actor, event_id)
        query = functools.partial(Ticket.by_event.query, event_id)
    elif actor.role == ADMIN:
        query = Ticket.scan
    elif actor.role == ORGANIZER:
        query = functools.partial(Ticket.by_organizer.query, actor.user_id)
    elif actor.role == RESELLER:
        of_event = (Ticket.event_id == event_id) if event_id else None
        query = functools.partial(Ticket.by_seller.query, actor.user_id, filter_condition=of_event)
    else:
        raise Forbidden()
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
    for _ in range(BOOKING_ATTEMPTS):
        buyer_part = buyer_write(buyer)

        def build(tx: TransactWrite, buyer_part: BuyerWrite = buyer_part) -> None:
            tx.update(
                ticket,
                actions=[
                    Ticket.buyer_id.set(buyer_part.buyer.id),
                    Ticket.holder.set(Holder(name=buyer.name, phone=buyer.phone)),
                ],
                condition=Ticket.id.exists(),
            )
            buyer_part.add_to(tx)

        if not transactions.write_unless_refused(build):
            if get_or_none(Ticket, ticket_id, consistent_read=True) is None:
                raise NotFound()
            continue  # the buyer raced: look it up again
        ticket.refresh(consistent_read=True)
        return ticket
    raise ServiceUnavailable("The ticket could not be updated; try again.", code="storage_busy")


def cancel_ticket(*, actor: Principal, ticket_id: str) -> None:
    """An admin cancels a ticket; its seat goes back to the seller's pool in the same write."""
    if not actor.is_admin:
        raise Forbidden()
    ticket = get_ticket(actor=actor, ticket_id=ticket_id)
    pool = Allocation(event_id=ticket.event_id, seller_id=ticket.seller_id)

    def build(tx: TransactWrite) -> None:
        tx.delete(ticket, condition=Ticket.id.exists())
        tx.update(
            pool,
            actions=[
                Allocation.available.add(1),
                Allocation.sold.add(-1),
                Allocation.updated_at.set(utcnow()),
            ],
            condition=Allocation.event_id.exists() & (Allocation.sold >= 1),
        )

    if not transactions.write_unless_refused(build):
        raise NotFound()
