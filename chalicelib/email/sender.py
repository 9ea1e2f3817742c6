"""Sends emails built elsewhere through SES; in local mode also prints them to the console."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from chalicelib import aws
from chalicelib.settings import get_settings

log = logging.getLogger(__name__)

_LINK = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str | None = None

    @property
    def links(self) -> list[str]:
        return _LINK.findall(self.text)


def send_email(message: EmailMessage) -> str:
    """Send through SES and return its message id; raises botocore errors to the caller."""
    settings = get_settings()
    body = {"Text": {"Data": message.text, "Charset": "UTF-8"}}
    if message.html is not None:
        body["Html"] = {"Data": message.html, "Charset": "UTF-8"}
    response = aws.client("ses").send_email(
        Source=settings.ses_sender,
        Destination={"ToAddresses": [message.to]},
        Message={"Subject": {"Data": message.subject, "Charset": "UTF-8"}, "Body": body},
    )
    if settings.is_local:
        # Local mode only: links in emails carry secrets (verification tokens) that must
        # never reach production logs.
        links = " ".join(message.links) or "-"
        print(
            f"[email] to={message.to} subject={message.subject!r} links={links}",
            flush=True,
        )
    return response["MessageId"]
