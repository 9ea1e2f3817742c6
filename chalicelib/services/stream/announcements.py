"""What follows from a recorded change, decided by the event stream's consumer (never inside
the request that made the change): confirmation, cancellation, refund, blocked-account and
webhook-health emails, links asked for by address (services.accounts.link_requests), and
webhook deliveries.

`handle` only decides: it records each webhook delivery and puts one message per email and per
delivery on the side-effects queue (side_effects.py), so a slow receiver holds nothing else
up. `send_email` is what the queue's worker runs for an email, through `deliveries.once`, so a
message carried out twice sends once; a failure (SES throttling, say) propagates and the
message comes back. Only the first verification email stays in its request (registering an
address that has an account is refused anyway, so its timing tells nothing more).
"""

from __future__ import annotations

import logging

from chalicelib.db.base import get_or_none
from chalicelib.db.buyers import Buyer
from chalicelib.db.changes import Change
from chalicelib.db.events import Event
from chalicelib.db.orders import Order
from chalicelib.db.recent_reads import RecentReads
from chalicelib.db.ticket_types import TicketType
from chalicelib.db.tickets import Ticket
from chalicelib.db.users import User
from chalicelib.db.waiting_list import WaitingEntry
from chalicelib.email.messages import (
    account_blocked_email,
    booking_confirmation,
    refund_email,
    ticket_cancelled_email,
    waiting_list_joined_email,
    waiting_list_offer_email,
    webhook_health_email,
)
from chalicelib.email.sender import EmailMessage
from chalicelib.email.sender import send_email as deliver
from chalicelib.money import from_minor
from chalicelib.services.accounts import buyer_access, link_requests, sign_in
from chalicelib.services.sales import payments, waiting_list
from chalicelib.services.sales.tickets import qr_of
from chalicelib.services.stream import deliveries, notifications, side_effects, webhook_deliveries
from chalicelib.settings import get_settings

log = logging.getLogger(__name__)


def handle(change: Change, audience: webhook_deliveries.Audience | None = None) -> int:
    """Queue what `change` calls for; safe to call again with the same change (an email queued
    twice is sent once, a delivery is recorded once, an offer made once). Stock that may have
    come back goes to the waiting list first (its offers are changes of their own). Returns how
    many messages went. `audience`: who hears of changes, as read for the change's batch."""
    waiting_list.after_change(change.type, change.event_id)
    messages = []
    if change.type in _EMAILS:
        messages.append(side_effects.email_message(change))
    messages += [
        side_effects.webhook_message(delivery.id, 0)
        for delivery in webhook_deliveries.fan_out(change, audience)
    ]
    return side_effects.enqueue(messages)


def send_email(change: Change) -> None:
    """The email `change` calls for, at most once."""
    email = _EMAILS.get(change.type)
    if email is not None:
        # Built inside the claim: an email already sent is not built again (building one may
        # make a link or count against the recipient's hourly ceiling).
        deliveries.once(change, "email", lambda: _send(email(change)))


def _send(message: EmailMessage | None) -> None:
    if message is not None:
        deliver(message)


def _requested_link(change: Change) -> EmailMessage | None:
    """A link asked for by address (services.accounts.link_requests), for whoever it is."""
    data = change.data or {}
    owner = link_requests.owner_of(data)
    if owner is None:
        return None
    build = {
        link_requests.BUYER_ACCESS: buyer_access.access_link_email,
        link_requests.PASSWORD_RESET: sign_in.reset_link_email,
        link_requests.VERIFICATION: sign_in.verification_again_email,
    }.get(data.get("kind"))
    return build(owner) if build is not None else None


# One confirmation per sale reads the sale's event: during a hot on-sale that is thousands of
# reads a second of one item, competing with the orders' own. The title and time it needs are
# kept per process for a few seconds.
_events: RecentReads[Event] = RecentReads(ttl_s=5.0)


def _event_for_email(event_id: str) -> Event | None:
    # eventually consistent: half the cost
    return _events.get(event_id, lambda: get_or_none(Event, event_id))


def _confirmation(change: Change) -> EmailMessage | None:
    """The buyer's tickets of one booking, with their QR images (counted against the hourly
    ceiling when the booking was made)."""
    data = change.data or {}
    buyer = get_or_none(Buyer, data.get("buyer_id", ""), consistent_read=True)
    event = _event_for_email(change.event_id or "")
    tickets = {t.id: t for t in Ticket.batch_get(data.get("ticket_ids", []))}
    tickets = [tickets[i] for i in data.get("ticket_ids", []) if i in tickets]
    if buyer is None or event is None or not tickets:
        log.info("confirmation of %s skipped: buyer, event or tickets gone", change.id)
        return None
    holder = tickets[0].holder
    return booking_confirmation(
        to=buyer.email,
        name=holder.name if holder else buyer.name,
        event_title=event.title,
        event_time=event.time,
        tickets=[(t.code, qr_of(t)) for t in tickets],
        lines=_lines(tickets),
        currency_code=tickets[0].currency_code,
    )


def _lines(tickets: list[Ticket]) -> list[tuple[str, int, str]]:
    """(ticket type, count, unit price) of the tickets, in the order first seen."""
    counted: dict[tuple[str, str], int] = {}
    for ticket in tickets:
        price = from_minor(ticket.price_minor, ticket.currency_code)
        key = (ticket.ticket_type_name or "Ticket", price)
        counted[key] = counted.get(key, 0) + 1
    return [(name, count, price) for (name, price), count in counted.items()]


def _cancellation(change: Change) -> EmailMessage | None:
    data = change.data or {}
    buyer = get_or_none(Buyer, data.get("buyer_id", ""), consistent_read=True)
    ticket = get_or_none(Ticket, change.target_id, consistent_read=True)
    event = get_or_none(Event, change.event_id or "", consistent_read=True)
    if buyer is None or ticket is None or event is None:
        return None
    if not notifications.reserve_quietly(buyer.email):
        return None
    return ticket_cancelled_email(
        to=buyer.email, name=buyer.name, event_title=event.title, event_time=event.time,
        code=ticket.code, by_buyer=change.actor_role == "buyer",
    )  # fmt: skip


def _refund_notice(change: Change) -> EmailMessage | None:
    """The buyer told that money is coming back, and why (counted against the ceiling: the
    refund stands whether or not this email goes)."""
    data = change.data or {}
    buyer = get_or_none(Buyer, data.get("buyer_id", ""), consistent_read=True)
    event = get_or_none(Event, change.event_id or "", consistent_read=True)
    order = get_or_none(Order, data.get("order_id", ""), consistent_read=True)
    refund = next((r for r in (order.refunds or []) if r.id == data.get("refund_id")), None) if (
        order
    ) else None  # fmt: skip
    if buyer is None or event is None or refund is None or refund.amount_minor <= 0:
        return None
    if not notifications.reserve_quietly(buyer.email):
        return None
    return refund_email(
        to=buyer.email, name=buyer.name, event_title=event.title,
        amount=from_minor(refund.amount_minor, order.currency_code),
        currency_code=order.currency_code, source=refund.source,
        cancelled=len(refund.ticket_ids or []),
    )  # fmt: skip


def _blocked_notice(change: Change) -> EmailMessage | None:
    user = get_or_none(User, change.target_id, consistent_read=True)
    if user is None or not notifications.reserve_quietly(user.email):
        return None
    return account_blocked_email(
        to=user.email, reason=change.detail_values.get("reason") or "admin"
    )


def _webhook_health(change: Change) -> EmailMessage | None:
    """The owner of a webhook that keeps not answering: paused for a while, or disabled."""
    data = change.data or {}
    owner = get_or_none(User, data.get("owner_id", ""), consistent_read=True)
    if owner is None or not notifications.reserve_quietly(owner.email):
        return None
    until = data.get("paused_until")
    return webhook_health_email(
        to=owner.email, url=data.get("url", ""), webhook_id=change.target_id,
        unanswered=int(data.get("unanswered") or 0),
        paused_until=until if change.type == "webhook.paused" else None,
    )  # fmt: skip


def _waiting_joined(change: Change) -> EmailMessage | None:
    """The place on the list confirmed, with the link that leaves it."""
    entry = get_or_none(WaitingEntry, change.target_id, consistent_read=True)
    event = get_or_none(Event, change.event_id or "", consistent_read=True)
    if entry is None or event is None or entry.status != "waiting":
        return None
    if not notifications.reserve_quietly(entry.email):
        return None
    token = waiting_list.leave_token(entry, event)
    link = f"{get_settings().app_url}/waiting-list/{entry.id}?token={token}"
    return waiting_list_joined_email(
        to=entry.email, name=entry.name, event_title=event.title,
        ticket_type=_type_name(event.id, entry.ticket_type_id), quantity=int(entry.quantity),
        leave_link=link,
    )  # fmt: skip


def _type_name(event_id: str, type_id: str) -> str:
    found = get_or_none(TicketType, event_id, type_id, consistent_read=True)
    return found.name if found is not None else "Ticket"


def _waiting_offer(change: Change) -> EmailMessage | None:
    """Tickets held for someone on the waiting list: the link that pays for them."""
    data = change.data or {}
    entry = get_or_none(WaitingEntry, change.target_id, consistent_read=True)
    order = get_or_none(Order, data.get("order_id") or "", consistent_read=True)
    event = get_or_none(Event, change.event_id or "", consistent_read=True)
    link = payments.checkout_url(order) if order is not None else None
    if entry is None or event is None or order is None or link is None:
        return None  # paid, cancelled or lapsed already: nothing to offer any more
    if not notifications.reserve_quietly(entry.email):
        return None
    line = order.items[0]
    return waiting_list_offer_email(
        to=entry.email, name=entry.name, event_title=event.title, event_time=event.time,
        ticket_type=line.name, quantity=int(line.quantity),
        total=from_minor(int(order.total_minor), order.currency_code),
        currency_code=order.currency_code, held_until=order.expires_at, link=link,
    )  # fmt: skip


_EMAILS = {
    "ticket.sold": _confirmation,
    "ticket.cancelled": _cancellation,
    "user.blocked": _blocked_notice,
    "order.refunded": _refund_notice,
    "link.requested": _requested_link,
    "webhook.paused": _webhook_health,
    "webhook.disabled": _webhook_health,
    "waiting_list.joined": _waiting_joined,
    "waiting_list.offered": _waiting_offer,
}
