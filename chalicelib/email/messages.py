"""Emails as plain values, built by pure functions; `sender.py` sends them.

Text a caller typed (names, titles) is shown inline only: on one line, shortened, with its
dots and `://` broken so mail clients cannot turn it into a link, and HTML-escaped in the
HTML part. Links in our emails come from us alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html import escape

from chalicelib.email.sender import EmailMessage, InlineImage
from chalicelib.qr_codes import qr_png

MAX_INLINE = 80
_BREAKS = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# A dot between two word characters is what makes "evil.example" a link.
_LINKABLE_DOT = re.compile(r"(?<=\w)\.(?=\w)")
ONE_DOT_LEADER = "\u2024"  # looks like "." to a person, is not one to a linkifier


def inline(text: str) -> str:
    """Caller text made safe to place inside our own sentences (plain-text form)."""
    flat = _BREAKS.sub(" ", text).strip()
    if len(flat) > MAX_INLINE:
        flat = flat[: MAX_INLINE - 1].rstrip() + "…"
    return _LINKABLE_DOT.sub(ONE_DOT_LEADER, flat).replace("://", ": //")


def _html(paragraphs: list[str]) -> str:
    """An HTML part from paragraphs already escaped (links are ours, added as <a>)."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f'<!doctype html><html><body style="font-family:sans-serif">{body}</body></html>'


def _link_html(link: str) -> str:
    return f'<a href="{escape(link)}">{escape(link)}</a>'


def _greeting(name: str | None) -> str:
    return f"Hello {inline(name)}," if name and inline(name) else "Hello,"


def verification_email(*, to: str, name: str | None, link: str) -> EmailMessage:
    greeting = _greeting(name)
    text = (
        f"{greeting}\n\n"
        "Please verify your email address to activate your Events API account:\n\n"
        f"{link}\n\n"
        "The link works once and expires in 24 hours. "
        "If you did not register, ignore this email.\n"
    )
    html = _html(
        [
            escape(greeting),
            "Please verify your email address to activate your Events API account:",
            _link_html(link),
            "The link works once and expires in 24 hours. "
            "If you did not register, ignore this email.",
        ]
    )
    return EmailMessage(to=to, subject="Verify your Events API account", text=text, html=html)


def password_reset_email(*, to: str, name: str | None, link: str) -> EmailMessage:
    greeting = _greeting(name)
    note = (
        "The link works once and expires in one hour; a newer request replaces it. "
        "If you did not ask for this, ignore this email: your password stays as it is."
    )
    text = f"{greeting}\n\nTo choose a new password for your Events API account, open:\n\n"
    text += f"{link}\n\n{note}\n"
    html = _html(
        [
            escape(greeting),
            "To choose a new password for your Events API account, open:",
            _link_html(link),
            escape(note),
        ]
    )
    return EmailMessage(to=to, subject="Reset your Events API password", text=text, html=html)


BLOCK_REASONS = {
    "failed_logins": "three sign-in attempts in a row failed",
    "admin": "an administrator blocked it",
}


def account_blocked_email(*, to: str, reason: str) -> EmailMessage:
    why = BLOCK_REASONS.get(reason, "it was blocked")
    lines = [
        "Hello,",
        f"Your Events API account has been blocked because {why}. "
        "Nobody can sign in to it, and its existing sessions have ended.",
        "Only an administrator can unblock it: contact the administrator of this service.",
    ]
    return EmailMessage(
        to=to,
        subject="Your Events API account is blocked",
        text="\n\n".join(lines) + "\n",
        html=_html([escape(line) for line in lines]),
    )


@dataclass(frozen=True)
class EventTickets:
    """One event's tickets in an email: its title and time, and (code, qr) per ticket."""

    title: str
    time: datetime
    tickets: list[tuple[str, str]]


ENTRANCE_NOTE = "Show a ticket's QR code or its code at the entrance; each ticket gets in once."


def booking_confirmation(
    *,
    to: str,
    name: str,
    event_title: str,
    event_time: datetime,
    tickets: list[tuple[str, str]],
    lines: list[tuple[str, int, str]],
    currency_code: str,
) -> EmailMessage:
    """`tickets` are (code, qr) pairs: the HTML part shows each code with its QR image.
    `lines` are (ticket type, count, unit price) of the order."""
    count = len(tickets)
    plural = "s" if count != 1 else ""
    title = inline(event_title)
    if len(lines) == 1:
        cost = f"{lines[0][2]} {currency_code} each"
    else:
        cost = "; ".join(f"{n} x {inline(name)} at {price} {currency_code}"
                         for name, n, price in lines)  # fmt: skip
    summary = (
        f"Your booking is confirmed: {count} ticket{plural} for {title} on "
        f"{_when(event_time)}, {cost}."
    )
    return _tickets_email(
        to=to,
        subject=f"Your tickets for {title}",
        intro=[_greeting(name), summary],
        events=[EventTickets(title=event_title, time=event_time, tickets=tickets)],
        headed=False,
    )


def my_tickets_email(*, to: str, name: str, events: list[EventTickets]) -> EmailMessage:
    """All of a buyer's upcoming tickets again, event by event."""
    count = sum(len(e.tickets) for e in events)
    plural = "s" if count != 1 else ""
    intro = [_greeting(name), f"As you asked, here are your {count} upcoming ticket{plural}."]
    return _tickets_email(to=to, subject="Your tickets", intro=intro, events=events, headed=True)


def _tickets_email(
    *, to: str, subject: str, intro: list[str], events: list[EventTickets], headed: bool
) -> EmailMessage:
    text_parts, html_parts, images = list(intro), [escape(line) for line in intro], []
    for event in events:
        heading = f"{inline(event.title)}, {_when(event.time)}"
        codes = "\n".join(f"  {code}" for code, _ in event.tickets)
        plural = "s" if len(event.tickets) != 1 else ""
        text_parts.append(f"{heading}\n{codes}" if headed else f"Ticket code{plural}:\n{codes}")
        if headed:
            html_parts.append(f"<b>{escape(heading)}</b>")
        for code, qr in event.tickets:
            image = InlineImage(
                content_id=f"ticket-{len(images) + 1}@tickets",
                png=qr_png(qr),
                filename=f"ticket-{code}.png",
            )
            images.append(image)
            html_parts.append(
                f'<b>{escape(code)}</b><br><img src="cid:{image.content_id}" alt="QR code of '
                f'ticket {escape(code)}" width="{_width(image)}">'
            )
    text_parts.append(ENTRANCE_NOTE)
    html_parts.append(escape(ENTRANCE_NOTE))
    return EmailMessage(
        to=to,
        subject=subject,
        text="\n\n".join(text_parts) + "\n",
        html=_html(html_parts),
        images=tuple(images),
    )


def buyer_access_email(*, to: str, name: str, link: str) -> EmailMessage:
    greeting = _greeting(name)
    note = (
        "The link works once and expires in 15 minutes. "
        "If you did not ask for it, ignore this email: nothing changes."
    )
    text = f"{greeting}\n\nTo see and manage your tickets, open:\n\n{link}\n\n{note}\n"
    html = _html(
        [escape(greeting), "To see and manage your tickets, open:", _link_html(link), escape(note)]
    )
    return EmailMessage(to=to, subject="Your tickets: sign-in link", text=text, html=html)


def ticket_cancelled_email(
    *, to: str, name: str, event_title: str, event_time: datetime, code: str, by_buyer: bool
) -> EmailMessage:
    why = "as you asked" if by_buyer else "by the event's organizers"
    lines = [
        _greeting(name),
        f"Your ticket {code} for {inline(event_title)} on {_when(event_time)} is cancelled, "
        f"{why}. It no longer gets in at the entrance.",
    ]
    return EmailMessage(
        to=to,
        subject=f"Ticket cancelled: {inline(event_title)}",
        text="\n\n".join(lines) + "\n",
        html=_html([escape(line) for line in lines]),
    )


# Why a refund was made, in the buyer's words, by who made it.
_REFUND_REASONS = {
    "late_payment": "Your payment arrived after the hold on your tickets had ended, and the "
    "tickets had gone to someone else in the meantime, so it was refunded in full.",
    "duplicate_payment": "The order had already been paid, so this second payment was "
    "refunded in full.",
    "buyer": "You cancelled the ticket, so its price was refunded.",
    "organizer": "The event's organizers refunded it.",
    "provider": "It was refunded by the payment provider.",
}


def refund_email(
    *,
    to: str,
    name: str | None,
    event_title: str,
    amount: str,
    currency_code: str,
    source: str,
    cancelled: int,
) -> EmailMessage:
    lines = [
        _greeting(name),
        f"{amount} {currency_code} of your order for {inline(event_title)} is on its way "
        "back to your card (banks take a few days to show it).",
        _REFUND_REASONS.get(source, _REFUND_REASONS["organizer"]),
    ]
    if cancelled:
        lines.append(
            f"{cancelled} ticket{'s' if cancelled != 1 else ''} of the order "
            f"{'are' if cancelled != 1 else 'is'} cancelled and no longer get"
            f"{'' if cancelled != 1 else 's'} in at the entrance."
        )
    return EmailMessage(
        to=to,
        subject=f"Refund: {inline(event_title)}",
        text="\n\n".join(lines) + "\n",
        html=_html([escape(line) for line in lines]),
    )


def webhook_health_email(
    *, to: str, url: str, webhook_id: str, unanswered: int, paused_until: str | None
) -> EmailMessage:
    """A webhook's owner told it keeps getting no answer: paused until a time, or disabled."""
    where = f"Your webhook {webhook_id} ({inline(url)})"
    if paused_until:
        subject = "Your webhook is not answering: deliveries paused"
        lines = [
            "Hello,",
            f"{where} has not answered its last {unanswered} deliveries within 10 seconds. "
            f"Deliveries to it are paused until {paused_until}; none is lost, they wait.",
            "After the pause one delivery is tried: if it is answered, deliveries go on as "
            "before; if not, the pause is longer, and after a few pauses the webhook is "
            "disabled.",
        ]
    else:
        subject = "Your webhook is disabled: it kept not answering"
        lines = [
            "Hello,",
            f"{where} kept not answering deliveries, pause after pause, so it is disabled: "
            "nothing more is sent to it, and the deliveries still waiting are dropped.",
            "Once the endpoint answers again, create a webhook for it (POST /webhooks); its "
            "delivery log stays readable until then.",
        ]
    return EmailMessage(
        to=to,
        subject=subject,
        text="\n\n".join(lines) + "\n",
        html=_html([escape(line) for line in lines]),
    )


def _when(time: datetime) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC")


def _width(image: InlineImage) -> int:
    """The PNG's own width (its IHDR chunk), so clients draw it pixel for pixel."""
    return int.from_bytes(image.png[16:20], "big")


def waiting_list_joined_email(
    *, to: str, name: str, event_title: str, ticket_type: str, quantity: int, leave_link: str
) -> EmailMessage:
    """Confirms a place on the waiting list, with the link that leaves it."""
    plural = "s" if quantity != 1 else ""
    lines = [
        _greeting(name),
        f"You are on the waiting list for {quantity} {inline(ticket_type)} ticket{plural} for "
        f"{inline(event_title)}. When tickets come back, they are offered in the order people "
        "joined: we will email you a link to pay for yours, held for you for a while.",
        "To leave the waiting list, open:",
    ]
    note = "If you did not ask for this, open the link to leave: nothing else happens."
    text = "\n\n".join([*lines, leave_link, note]) + "\n"
    html = _html([*(escape(line) for line in lines), _link_html(leave_link), escape(note)])
    return EmailMessage(to=to, subject=f"Waiting list: {inline(event_title)}", text=text, html=html)


def waiting_list_offer_email(
    *,
    to: str,
    name: str,
    event_title: str,
    event_time: datetime,
    ticket_type: str,
    quantity: int,
    total: str,
    currency_code: str,
    held_until: datetime,
    link: str,
) -> EmailMessage:
    """Tickets came back for someone on the waiting list: held for them until `held_until`."""
    plural = "s" if quantity != 1 else ""
    lines = [
        _greeting(name),
        f"Good news: {quantity} {inline(ticket_type)} ticket{plural} for {inline(event_title)} "
        f"on {_when(event_time)} {'are' if plural else 'is'} held for you until "
        f"{_when(held_until)}, {total} {currency_code} in all. To pay, open:",
    ]
    note = "If you do not pay by then, the tickets go to the next person waiting."
    text = "\n\n".join([*lines, link, note]) + "\n"
    html = _html([*(escape(line) for line in lines), _link_html(link), escape(note)])
    return EmailMessage(
        to=to, subject=f"Tickets held for you: {inline(event_title)}", text=text, html=html
    )
