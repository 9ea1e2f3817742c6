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
class InlineImage:
    """A PNG the HTML part shows with `<img src="cid:{content_id}">`."""

    content_id: str
    png: bytes
    filename: str


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str | None = None
    images: tuple[InlineImage, ...] = ()

    @property
    def links(self) -> list[str]:
        return _LINK.findall(self.text)


def send_email(message: EmailMessage) -> str:
    """Send through SES and return its message id; raises botocore errors to the caller."""
    settings = get_settings()
    if message.images:
        response = aws.client("ses").send_raw_email(
            Source=settings.ses_sender,
            Destinations=[message.to],
            RawMessage={"Data": mime_bytes(message, sender=settings.ses_sender)},
        )
    else:
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


def mime_bytes(message: EmailMessage, *, sender: str) -> bytes:
    """multipart/alternative: the text, and the HTML with its images as multipart/related
    (`cid:` references, which mail clients show inline where they block `data:` URLs)."""
    from email.message import EmailMessage as Mime
    from email.policy import SMTP

    mime = Mime(policy=SMTP)
    mime["From"] = sender
    mime["To"] = message.to
    mime["Subject"] = message.subject  # the email package refuses line breaks in headers
    mime.set_content(message.text)
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html")
        html = mime.get_payload()[-1]
        for image in message.images:
            html.add_related(
                image.png, maintype="image", subtype="png", cid=f"<{image.content_id}>",
                filename=image.filename, disposition="inline",
            )  # fmt: skip
    return mime.as_bytes()
