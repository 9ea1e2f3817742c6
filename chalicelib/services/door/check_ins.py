"""The door: each ticket gets in once.

A check-in is one TransactWriteItems: the ticket is marked under the condition that it is
live, of this event and not yet checked in, and its pool's `checked_in` count goes up in the
same write. Parallel scans of one ticket race on that condition, so exactly one wins however
many devices scan it at once. A scanner's retry (same `nonce`) gets the first answer again; an
offline scan uploaded late keeps the earliest time on the record.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.auth import offline, ticket_keys
from chalicelib.auth.principal import SCANNER, Principal
from chalicelib.db import transactions
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import get_or_none, utcnow
from chalicelib.db.events import Event
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.db.ticket_types import TicketType
from chalicelib.db.tickets import LIVE, Ticket
from chalicelib.errors import (
    AlreadyCheckedIn,
    Forbidden,
    InvalidRequest,
    NotCheckedIn,
    NotFound,
    ServiceUnavailable,
    TicketCancelled,
    TicketNotFound,
    WrongEvent,
)
from chalicelib.services.sales import inventory, stock_shards, tickets
from chalicelib.services.sales.events import get_event, owned_event
from chalicelib.services.stream.changes import record as record_change

# A device's clock may run a little ahead; a scan further in the future is a broken clock.
CLOCK_SKEW = timedelta(minutes=5)
ATTEMPTS = 3


@dataclass(frozen=True)
class CheckIn:
    ticket: Ticket
    first: bool  # False: a retry of the same scan (same nonce), answered as the first was


@dataclass(frozen=True)
class DoorCounts:
    sold: int
    checked_in: int


def door_event(actor: Principal, event_id: str) -> Event:
    """The event, for its organizer, an admin, or one of its own scanners."""
    if actor.role == SCANNER:
        if actor.event_id != event_id:
            raise Forbidden()
        return get_event(event_id)
    return owned_event(actor, event_id)


def check_in(
    *,
    actor: Principal,
    event_id: str,
    qr: str | None = None,
    code: str | None = None,
    nonce: str | None = None,
    scanned_at: datetime | None = None,
) -> CheckIn:
    """Check in the ticket a `qr` (verified with the published keys) or a `code` names."""
    door_event(actor, event_id)
    now = utcnow()
    if scanned_at is not None and scanned_at > now + CLOCK_SKEW:
        raise InvalidRequest(details={"scanned_at": "Must not be in the future."})
    retry_key = f"{actor.user_id}:{nonce}" if nonce is not None else None
    ticket = get_or_none(Ticket, _ticket_id(qr, code), consistent_read=True)
    for _ in range(ATTEMPTS):
        if ticket is None:
            raise TicketNotFound()
        if ticket.event_id != event_id:
            raise WrongEvent()
        if ticket.is_cancelled:
            raise TicketCancelled()
        if ticket.is_checked_in:
            if retry_key is not None and ticket.check_in_nonce == retry_key:
                return CheckIn(ticket=ticket, first=False)
            _keep_earliest(ticket, scanned_at)
            raise AlreadyCheckedIn(ticket.checked_in_at)
        if _mark(actor, ticket, at=scanned_at or now, recorded_at=now, retry_key=retry_key):
            return CheckIn(ticket=ticket, first=True)
        ticket = get_or_none(Ticket, ticket.id, consistent_read=True)  # changed: judge again
    raise ServiceUnavailable("The check-in could not be recorded; try again.", code="storage_busy")


def _ticket_id(qr: str | None, code: str | None) -> str:
    if qr is not None:
        try:
            return offline.verify_ticket(qr, {"keys": ticket_keys.published_keys()}).ticket_id
        except offline.InvalidTicket:
            raise TicketNotFound() from None
    if code is None:
        raise InvalidRequest(details={"qr": "Give the ticket's qr or its code."})
    found = [t.id for t in Ticket.by_code.query(code, limit=2)]
    if len(found) != 1:
        raise TicketNotFound()
    return found[0]


def _mark(
    actor: Principal, ticket: Ticket, *, at: datetime, recorded_at: datetime, retry_key: str | None
) -> bool:
    """The exactly-once write; False when its condition no longer holds."""
    actions = [
        Ticket.checked_in_at.set(at),
        Ticket.checked_in_event_id.set(ticket.event_id),
        Ticket.checked_in_by.set(actor.user_id),
        Ticket.check_in_recorded_at.set(recorded_at),
        Ticket.check_in_nonce.set(retry_key) if retry_key else Ticket.check_in_nonce.remove(),
    ]

    def build(tx: TransactWrite) -> None:
        tx.update(
            ticket,
            actions=actions,
            condition=Ticket.id.exists()
            & LIVE
            & Ticket.checked_in_at.does_not_exist()
            & (Ticket.event_id == ticket.event_id),
        )
        tx.update(
            Allocation(event_id=ticket.event_id, seller_id=ticket.seller_id),
            actions=[Allocation.checked_in.add(1)],
            condition=Allocation.event_id.exists(),
        )
        tx.update(  # the report's count per type
            TicketType(event_id=ticket.event_id, id=ticket.ticket_type_id or ticket.event_id),
            actions=[TicketType.checked_in.add(1)],
            condition=TicketType.id.exists(),
        )
        record_change(
            tx, "ticket.checked_in", actor=actor, target_type="ticket", target_id=ticket.id,
            event_id=ticket.event_id, details={"checked_in_at": at.isoformat()},
            data=tickets.ticket_data(ticket),
        )  # fmt: skip

    if not transactions.write_unless_refused(build):
        return False
    ticket.checked_in_at = at
    ticket.checked_in_event_id = ticket.event_id
    ticket.checked_in_by = actor.user_id
    ticket.check_in_recorded_at = recorded_at
    ticket.check_in_nonce = retry_key
    return True


def _keep_earliest(ticket: Ticket, scanned_at: datetime | None) -> None:
    """An offline scan older than the recorded check-in becomes the recorded time (the holder
    was in by then); the answer is still `already_checked_in`: two scans of one ticket."""
    recorded = ticket.checked_in_at
    if scanned_at is None or recorded is None or scanned_at >= recorded:
        return
    try:
        ticket.update(
            actions=[Ticket.checked_in_at.set(scanned_at)],
            condition=Ticket.checked_in_at == recorded,
        )
    except UpdateError as exc:
        if not transactions.condition_failed(exc):
            raise
        ticket.refresh(consistent_read=True)  # another upload moved it: report what stands


def undo_check_in(*, actor: Principal, event_id: str, ticket_id: str) -> None:
    """The organizer takes back a check-in made by mistake; the count goes down with it."""
    owned_event(actor, event_id)
    ticket = get_or_none(Ticket, ticket_id, consistent_read=True)
    if ticket is None or ticket.event_id != event_id:
        raise NotFound()
    if not ticket.is_checked_in:
        raise NotCheckedIn()

    def build(tx: TransactWrite) -> None:
        tx.update(
            ticket,
            actions=[
                Ticket.checked_in_at.remove(),
                Ticket.checked_in_event_id.remove(),
                Ticket.checked_in_by.remove(),
                Ticket.check_in_recorded_at.remove(),
                Ticket.check_in_nonce.remove(),
            ],
            condition=Ticket.checked_in_at.exists(),
        )
        tx.update(
            Allocation(event_id=ticket.event_id, seller_id=ticket.seller_id),
            actions=[Allocation.checked_in.add(-1)],
            condition=Allocation.checked_in >= 1,
        )
        tx.update(
            TicketType(event_id=ticket.event_id, id=ticket.ticket_type_id or ticket.event_id),
            actions=[TicketType.checked_in.add(-1)],
            condition=TicketType.checked_in >= 1,
        )
        record_change(
            tx, "ticket.check_in_undone", actor=actor, target_type="ticket",
            target_id=ticket.id, event_id=ticket.event_id,
            details={"checked_in_at": ticket.checked_in_at.isoformat()},
            data=tickets.ticket_data(ticket),
        )  # fmt: skip

    if not transactions.write_unless_refused(build):
        raise NotCheckedIn()  # undone by a parallel request


def list_check_ins(
    *, actor: Principal, event_id: str, limit: int, next_token: str | None
) -> tuple[DoorCounts, Page[Ticket]]:
    """The counts (sold, checked in) and a page of check-ins, latest first."""
    event = door_event(actor, event_id)
    pools = inventory.pools_of(event.id)
    stock_shards.fold(pools)
    counts = DoorCounts(
        sold=sum(p.sold for p in pools), checked_in=sum(p.checked_in for p in pools)
    )
    query = functools.partial(Ticket.check_ins_by_event.query, event_id, scan_index_forward=False)
    scope = f"check-ins:{event_id}"
    return counts, fetch_page(Ticket, query, scope=scope, limit=limit, next_token=next_token)


def revoked_tickets(
    *, actor: Principal, event_id: str, limit: int, next_token: str | None
) -> Page[Ticket]:
    """The event's cancelled tickets, oldest cancellation first, for offline scanners."""
    door_event(actor, event_id)
    query = functools.partial(Ticket.revoked_by_event.query, event_id)
    scope = f"revoked:{event_id}"
    return fetch_page(Ticket, query, scope=scope, limit=limit, next_token=next_token)
