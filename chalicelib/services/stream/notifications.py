"""Emails to people, within the contract's ceiling of emails per recipient per hour."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.email.addresses import normalize_email
from chalicelib.email.sender import EmailMessage, send_email
from chalicelib.errors import RateLimited
from chalicelib.services.operations import limits

log = logging.getLogger(__name__)


def reserve(recipient: str) -> None:
    """Count one email to `recipient`; RateLimited past the hourly ceiling, before any work."""
    limits.enforce(recipient=normalize_email(recipient))


def reserve_quietly(recipient: str) -> bool:
    """`reserve`, answering False past the ceiling instead of raising: for answers that must
    not reveal whether an email went (no account enumeration) and for notices."""
    try:
        reserve(recipient)
    except RateLimited:
        log.warning("email skipped: recipient over the hourly ceiling")
        return False
    return True


def send(message: EmailMessage) -> bool:
    """Send an email already counted with `reserve`; a failure is logged, never raised, since
    the change it reports has happened."""
    try:
        send_email(message)
    except (BotoCoreError, ClientError):
        log.exception("email %r failed", message.subject)
        return False
    return True


def send_within_ceiling(message: EmailMessage) -> bool:
    """Count and send, or skip quietly past the ceiling."""
    return reserve_quietly(message.to) and send(message)
