"""Buyers' own access, without an account: an emailed single-use link (15 min) opens a buyer
session (1 h) that sees, resends and cancels the buyer's tickets and erases their data."""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import DeleteError
from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import BUYER, Principal
from chalicelib.auth.tokens import IssuedToken, issue_buyer_token
from chalicelib.db import transactions
from chalicelib.db.base import get_or_none, has_any, utcnow
from chalicelib.db.buyers import Buyer
from chalicelib.db.events import Event
from chalicelib.db.link_tokens import BUYER_ACCESS, LinkToken, hash_token, new_link
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.db.tickets import Ticket
from chalicelib.db.uniques import BUYER_EMAIL
from chalicelib.email.messages import (
    EventTickets,
    buyer_access_email,
    my_tickets_email,
)
from chalicelib.email.sender import EmailMessage
from chalicelib.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    TicketCancelled,
)
from chalicelib.services.accounts import link_requests
from chalicelib.services.sales import buyers, refunds, tickets
from chalicelib.services.stream import notifications
from chalicelib.settings import get_settings

ACCESS_LINK_LIFETIME = timedelta(minutes=15)
# One email holds at most this many tickets' QR images (each ~2 KB).
MAX_TICKETS_PER_EMAIL = 100


class InvalidAccessLink(InvalidRequest):
    code = "invalid_access_link"
    message = "This link is not valid: it was used, it expired, or it was never sent."


class NotCancellable(Conflict):
    code = "not_cancellable"
    message = "This ticket can no longer be cancelled."


class HasUpcomingTickets(Conflict):
    code = "has_upcoming_tickets"
    message = "You hold tickets for upcoming events; cancel them or wait until they are over."


@dataclass(frozen=True)
class MyTicket:
    ticket: Ticket
    event: Event | None  # None once the event was deleted


def _buyer_of(actor: Principal) -> Buyer:
    if actor.role != BUYER:
        raise Forbidden()
    buyer = get_or_none(Buyer, actor.user_id, consistent_read=True)
    if buyer is None:
        raise NotFound()
    return buyer


# --- the link and the session ----------------------------------------------------------


def request_access(*, email: str) -> None:
    """Queue a single-use link for a buyer who holds tickets; the same work either way, so
    neither the answer nor its time says whether they do (see services.accounts.link_requests)."""
    link_requests.queue(link_requests.BUYER_ACCESS, claim_kind=BUYER_EMAIL, email=email)


def access_link_email(buyer_id: str) -> EmailMessage | None:
    """The stream's part: the link email for a buyer who holds tickets (None for anyone else,
    or past the hourly email ceiling). Makes the link, which works once for 15 minutes."""
    buyer = get_or_none(Buyer, buyer_id, consistent_read=True)
    if buyer is None or not has_any(Ticket.by_buyer.query(buyer.id, limit=1)):
        return None
    if not notifications.reserve_quietly(buyer.email):
        return None
    token, link = new_link(buyer.id, BUYER_ACCESS, ACCESS_LINK_LIFETIME)
    link.save()
    url = f"{get_settings().app_url}/my-tickets/{token}"
    return buyer_access_email(to=buyer.email, name=buyer.name, link=url)


def check_access_link(*, token: str) -> None:
    """Raise InvalidAccessLink unless the link works now (used by its page; uses nothing up)."""
    _live_link(token)


@dataclass(frozen=True)
class BuyerSession:
    token: IssuedToken
    buyer_id: str


def start_session(*, token: str) -> BuyerSession:
    """Exchange the link, once, for a buyer token. Parallel exchanges: exactly one wins."""
    link = _live_link(token)
    try:
        link.delete(condition=LinkToken.token_hash.exists())
    except DeleteError as exc:
        if transactions.condition_failed(exc):
            raise InvalidAccessLink() from None
        raise
    buyer = get_or_none(Buyer, link.user_id, consistent_read=True)
    if buyer is None:
        raise InvalidAccessLink()
    issued = issue_buyer_token(buyer_id=buyer.id, token_version=buyer.token_version)
    return BuyerSession(token=issued, buyer_id=buyer.id)


def _live_link(token: str) -> LinkToken:
    link = get_or_none(LinkToken, hash_token(token), consistent_read=True)
    if link is None or link.purpose != BUYER_ACCESS or link.expires_at <= utcnow():
        raise InvalidAccessLink()
    return link


# --- my tickets ------------------------------------------------------------------------


def my_tickets(*, actor: Principal, limit: int, next_token: str | None) -> Page[MyTicket]:
    """The buyer's tickets, newest first, each with its event (one BatchGetItem a page)."""
    buyer = _buyer_of(actor)
    query = functools.partial(Ticket.by_buyer.query, buyer.id, scan_index_forward=False)
    scope = f"my-tickets:{buyer.id}"
    page = fetch_page(Ticket, query, scope=scope, limit=limit, next_token=next_token)
    events = _events_of(page.items)
    return Page(
        items=[MyTicket(ticket=t, event=events.get(t.event_id)) for t in page.items],
        next_token=page.next_token,
    )


def _events_of(tickets: list[Ticket]) -> dict[str, Event]:
    ids = {t.event_id for t in tickets}
    return {e.id: e for e in Event.batch_get(list(ids))} if ids else {}


def is_cancellable(ticket: Ticket, event: Event | None, now: datetime | None = None) -> bool:
    """Whether its buyer may cancel it now: live, not checked in, inside the event's window."""
    return (
        event is not None
        and not ticket.is_cancelled
        and not ticket.is_checked_in
        and event.cancellable_until is not None
        and event.cancellable_until > (now or utcnow())
    )


def _upcoming(buyer_id: str) -> list[MyTicket]:
    """The buyer's live tickets for events still to come, oldest booking first."""
    live = [t for t in Ticket.by_buyer.query(buyer_id) if not t.is_cancelled]
    events = _events_of(live)
    now = utcnow()
    return [
        MyTicket(ticket=t, event=events[t.event_id])
        for t in live
        if t.event_id in events and events[t.event_id].time > now
    ]


def resend(*, actor: Principal) -> int:
    """Email the buyer all their upcoming tickets again; returns how many."""
    buyer = _buyer_of(actor)
    upcoming = _upcoming(buyer.id)[:MAX_TICKETS_PER_EMAIL]
    if not upcoming:
        raise Conflict("You hold no tickets for upcoming events.", code="no_upcoming_tickets")
    notifications.reserve(buyer.email)
    by_event: dict[str, list[MyTicket]] = defaultdict(list)
    for item in upcoming:
        by_event[item.ticket.event_id].append(item)
    events = [
        EventTickets(
            title=items[0].event.title,
            time=items[0].event.time,
            tickets=[(i.ticket.code, tickets.qr_of(i.ticket)) for i in items],
        )
        for items in sorted(by_event.values(), key=lambda items: items[0].event.time)
    ]
    notifications.send(my_tickets_email(to=buyer.email, name=buyer.name, events=events))
    return len(upcoming)


def cancel(*, actor: Principal, ticket_id: str) -> None:
    """The buyer cancels one of their tickets inside the event's window; the seat returns to
    its seller in the same transaction, which also checks the window on the event item."""
    buyer = _buyer_of(actor)
    ticket = get_or_none(Ticket, ticket_id, consistent_read=True)
    if ticket is None or ticket.buyer_id != buyer.id:
        raise NotFound()
    if ticket.is_cancelled:
        raise TicketCancelled()
    event = get_or_none(Event, ticket.event_id, consistent_read=True)
    now = utcnow()
    if not is_cancellable(ticket, event, now):
        raise NotCancellable()

    def in_window(tx: TransactWrite) -> None:
        # The organizer may close the window meanwhile: the event decides at write time.
        tx.condition_check(Event, event.id, condition=Event.cancellable_until > now)

    if refunds.paid_by_card(ticket):
        # Paid by card: cancelled with its price refunded, in the refund's own transaction.
        try:
            refunds.refund_cancelled_ticket(actor=actor, ticket=ticket, also=in_window)
        except ServiceUnavailable:
            # Refused again and again: the window closed, or the ticket changed, meanwhile.
            current = tickets.live_ticket(ticket_id)
            event = get_or_none(Event, ticket.event_id, consistent_read=True)
            if not is_cancellable(current, event, utcnow()):
                raise NotCancellable() from None
            raise
        return

    for _ in range(tickets.CANCEL_ATTEMPTS):
        # Paid outside the API: a refund of its price is recorded with the cancellation.
        refund = refunds.offline_ticket_refund(ticket, "buyer")

        def build(
            tx: TransactWrite, ticket: Ticket = ticket, refund: refunds.TicketRefund | None = refund
        ) -> None:
            tickets.add_cancellation(
                tx, ticket, now, actor=actor, condition=Ticket.buyer_id == buyer.id,
                refund=refund,
            )  # fmt: skip
            in_window(tx)

        if transactions.write_unless_refused(build):
            return  # the cancellation email follows from the event stream
        ticket = tickets.live_ticket(ticket_id)
        if refund is None:
            break
    raise NotCancellable()  # checked in, or the window closed, meanwhile


def erase_my_data(*, actor: Principal) -> None:
    """Delete the buyer (their sessions end with it) and strip their name and phone from their
    past tickets; refused while they hold tickets for events still to come."""
    buyer = _buyer_of(actor)
    if _upcoming(buyer.id):
        raise HasUpcomingTickets()
    if not buyers.erase(buyer):
        raise HasUpcomingTickets()  # a booking landed meanwhile
