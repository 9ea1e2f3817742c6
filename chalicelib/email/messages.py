"""Emails as plain values, built by pure functions; `sender.py` sends them."""

from __future__ import annotations

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
