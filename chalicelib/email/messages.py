"""Emails as plain values, built by pure functions; `sender.py` sends them."""

from __future__ import annotations

from datetime import datetime

from chalicelib.email.sender import EmailMessage


def verification_email(*, to: str, name: str | None, link: str) -> EmailMessage:
    greeting = f"Hello {name}," if name else "Hello,"
    text = (
        f"{greeting}\n\n"
        "Please verify your email address to activate your Events API account:\n\n"
        f"{link}\n\n"
        "The link works once and expires in 24 hours. "
        "If you did not register, ignore this email.\n"
    )
    return EmailMessage(to=to, subject="Verify your Events API account", text=text)


def booking_confirmation(
    *,
    to: str,
    name: str,
    event_title: str,
    event_time: datetime,
    codes: list[str],
    price: str,
    currency_code: str,
) -> EmailMessage:
    count = len(codes)
    lines = "\n".join(f"  {code}" for code in codes)
    text = (
        f"Hello {name},\n\n"
        f"Your booking is confirmed: {count} ticket{'s' if count != 1 else ''} for "
        f"{event_title} on {event_time.strftime('%Y-%m-%d %H:%M UTC')}, "
        f"{price} {currency_code} each.\n\n"
        f"Ticket code{'s' if count != 1 else ''}:\n{lines}\n\n"
        "Show a code at the entrance.\n"
    )
    return EmailMessage(to=to, subject=f"Your tickets for {event_title}", text=text)
