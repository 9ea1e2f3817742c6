"""Bookings (sold tickets): never more than a pool holds, whatever runs in parallel."""

from __future__ import annotations

import functools
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib.auth import ticket_keys
from chalicelib.auth.principal import ADMIN, ORGANIZER, RESELLER, SELLER_ROLES, Principal
from chalicelib.db import batch, transactions
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import get_or_none, new_id, utcnow
from chalicelib.db.bookings import LIVE, Holder, Ticket
from chalicelib.db.events import Event
from chalicelib.db.idempotency import IdempotencyRecord
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.db.uniques import UniqueClaim
from chalicelib.email.addresses import normalize_email
from chalicelib.errors import (
    AlreadyCheckedIn,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    SoldOut,
    TicketCancelled,
)
from chalicelib.services import idempotency, notifications
from chalicelib.services.buyers import (
    BuyerDetails,
    BuyerWrite,
    buyer_claim_key,
    buyer_write,
    read_buyer_write,
)
from chalicelib.services.changes import record as record_change
from chalicelib.services.events import owned_event

log = logging.getLogger(__name__)

BOOKING_ATTEMPTS = 3
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud


@dataclass(frozen=True)
class Booking:
    tickets: list[Ticket]


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
    """Sell `quantity` tickets: one BatchGetItem (the event, the buyer's email claim, the
    idempotency record) and one TransactWriteItems, whatever was sold before."""
    key = (
        idempotency.record_key(scope=actor.user_id if actor else "anonymous", key=idempotency_key)
        if idempotency_key is not None
        else None
    )
    refused_seller: str | None = None  # set once a sale by this seller was refused
    for _ in range(BOOKING_ATTEMPTS):
        reads = _read_for_sale(event_id, buyer, key, retrying_seller=refused_seller)
        event = reads.event
        if event is None:
            raise NotFound()
        seller, own_pool = _seller_for(actor, event, seller_id)
        fingerprint = idempotency.fingerprint(
            event_id, seller, quantity, normalize_email(buyer.email), buyer.name, buyer.phone
        )
        if key is not None:
            replay = idempotency.replay_of(reads.record, fingerprint)
            if replay is not None:
                return _replayed(replay.result)
        if refused_seller is not None:
            # Raise the rule the refused sale broke; if only the buyer or the key raced, retry.
            _explain_refused_sale(reads.pool, own_pool, quantity)
        else:
            if event.time <= utcnow():
                raise Conflict("This event has already taken place.", code="event_over")
            # Counted before selling: past the hourly email ceiling nothing is booked.
            notifications.reserve(buyer.email)
        buyer_part = buyer_write(buyer, reads.claim)
        tickets = _tickets(event, seller, buyer_part, quantity, buyer)
        build = functools.partial(
            _write_sale,
            actor=actor,
            event=event,
            pool=Allocation(event_id=event.id, seller_id=seller),
            own_pool=own_pool,
            tickets=tickets,
            buyer_part=buyer_part,
            record=(key, fingerprint) if key is not None else None,
        )
        if transactions.write_unless_refused(build):
            break
        refused_seller = seller
    else:
        raise ServiceUnavailable(
            "The booking could not be completed; try again.", code="storage_busy"
        )
    # The confirmation goes out from the event stream (chalicelib/consumers), never from here.
    return Booking(tickets=tickets)


@dataclass(frozen=True)
class _SaleReads:
    event: Event | None
    claim: UniqueClaim | None
    record: IdempotencyRecord | None
    pool: Allocation | None


def _read_for_sale(
    event_id: str, buyer: BuyerDetails, key: str | None, *, retrying_seller: str | None
) -> _SaleReads:
    """Everything a sale decides on, in one strongly consistent BatchGetItem. After a refused
    write the seller's pool comes too, to tell which rule refused it."""
    keys: list[batch.Key] = [
        (Event, event_id, None),
        (UniqueClaim, buyer_claim_key(buyer), None),
    ]
    if key is not None:
        keys.append((IdempotencyRecord, key, None))
    if retrying_seller is not None:
        keys.append((Allocation, event_id, retrying_seller))
    found = batch.get_items(keys)
    return _SaleReads(
        event=found[0],
        claim=found[1],
        record=found[2] if key is not None else None,
        pool=found[-1] if retrying_seller is not None else None,
    )


def _replayed(result: dict) -> Booking:
    tickets = {t.id: t for t in Ticket.batch_get(result["ticket_ids"])}
    return Booking(
        tickets=[tickets[i] for i in result["ticket_ids"] if i in tickets],
    )


def _tickets(
    event: Event, seller_id: str, buyer_part: BuyerWrite, quantity: int, buyer: BuyerDetails
) -> list[Ticket]:
    now = utcnow()
    tickets = []
    for _ in range(quantity):
        ticket_id, code = new_id(), ticket_code()
        tickets.append(
            Ticket(
                id=ticket_id,
                event_id=event.id,
                seller_id=seller_id,
                organizer_id=event.organizer_id,
                buyer_id=buyer_part.buyer.id,
                holder=Holder(name=buyer.name, phone=buyer.phone),
                code=code,
                qr=ticket_keys.sign_ticket(
                    ticket_id=ticket_id, event_id=event.id, code=code, issued_at=now
                ),
                price_minor=event.price_minor,
                currency_code=event.currency_code,
                created_at=now,
            )
        )
    return tickets


def qr_of(ticket: Ticket) -> str:
    """The ticket's signed `qr`; a ticket sold before tickets were signed is signed now."""
    return ticket.qr or ticket_keys.sign_ticket(
        ticket_id=ticket.id, event_id=ticket.event_id, code=ticket.code,
        issued_at=ticket.created_at,
    )  # fmt: skip


def _write_sale(
    tx: TransactWrite,
    *,
    actor: Principal | None,
    event: Event,
    pool: Allocation,
    own_pool: bool,
    tickets: list[Ticket],
    buyer_part: BuyerWrite,
    record: tuple[str, str] | None,
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
    # The announcement the stream's consumers work from (the confirmation email, webhooks):
    # ids only, so no personal data waits in it.
    record_change(
        tx, "ticket.sold", actor=actor, target_type="booking", target_id=tickets[0].id,
        event_id=event.id,
        details={"quantity": quantity},
        data={"ticket_ids": [t.id for t in tickets], "buyer_id": buyer_part.buyer.id,
              "seller_id": pool.seller_id, "organizer_id": event.organizer_id},
    )  # fmt: skip
    if record is not None:
        key, fingerprint = record
        idempotency.record_in(tx, key, fingerprint, {"ticket_ids": [t.id for t in tickets]})


def _explain_refused_sale(pool: Allocation | None, own_pool: bool, quantity: int) -> None:
    """Raise the rule the refused booking broke, or return when only the buyer part raced."""
    if pool is None:
        raise NotFound("This seller does not sell tickets for the event.", code="seller_not_found")
    if pool.closed_at is not None:
        raise Conflict("This event is closed for booking.", code="event_closed")
    if not own_pool and not pool.on_sale:
        raise Conflict("This seller is not offering tickets for the event.", code="not_on_sale")
    if pool.available < quantity:
        raise SoldOut(details={"available": str(pool.available)})


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
    refuse_cancelled_or_checked_in(ticket)

    def build(tx: TransactWrite) -> None:
        add_cancellation(tx, ticket, utcnow(), actor=actor)

    if not transactions.write_unless_refused(build):
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
) -> None:
    """Tombstone the ticket, give its seat back to its seller's pool and record it, in one
    transaction; `condition` adds to the ticket's own (live, not checked in)."""
    live = Ticket.id.exists() & LIVE & Ticket.checked_in_at.does_not_exist()
    tx.update(
        ticket,
        actions=[Ticket.cancelled_at.set(now), Ticket.revoked_event_id.set(ticket.event_id)],
        # Cancelled once: a second, parallel cancel must not give the seat back twice.
        condition=live & condition if condition is not None else live,
    )
    tx.update(
        Allocation(event_id=ticket.event_id, seller_id=ticket.seller_id),
        actions=[
            Allocation.available.add(1),
            Allocation.sold.add(-1),
            Allocation.updated_at.set(now),
        ],
        condition=Allocation.event_id.exists() & (Allocation.sold >= 1),
    )
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
