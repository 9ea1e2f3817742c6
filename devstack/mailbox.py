"""What the emulated SES accepted, read the way a mail client reads it: plain and raw (MIME)
messages alike become {id, source, to, subject, body, html, images}."""

from __future__ import annotations

import base64
import email
import email.policy
from html.parser import HTMLParser
from typing import Any


class _Text(HTMLParser):
    """The words of an HTML part, a paragraph a line: what a mail client shows as text."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("p", "br", "div", "tr", "h1", "h2"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return "\n\n".join(line for line in lines if line) + "\n"


def _text_of(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return parser.text()


def describe(message: Any) -> dict[str, Any]:
    """One message moto's SES backend holds (a `Message` or a `RawMessage`)."""
    raw = getattr(message, "raw_data", None)
    if raw is None:
        # moto keeps one body of a SendEmail: the HTML part when there is one (its text part is
        # dropped), so the text shown is read back from the HTML.
        body = getattr(message, "body", None)
        html = body if body and body.lstrip()[:9].lower() in ("<!doctype", "<html>") else None
        return {
            "id": message.id,
            "source": message.source,
            "to": message.destinations.get("ToAddresses", []),
            "subject": getattr(message, "subject", None),
            "body": _text_of(html) if html is not None else body,
            "html": html,
            "images": [],
        }
    text = raw.decode() if isinstance(raw, bytes) else raw
    parsed = email.message_from_string(text, policy=email.policy.default)
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    return {
        "id": message.id,
        "source": message.source,
        # moto lists a raw message's recipients from its headers and its envelope alike.
        "to": list(dict.fromkeys(message.destinations)),
        "subject": str(parsed["Subject"]),
        "body": plain.get_content() if plain is not None else None,
        "html": html.get_content() if html is not None else None,
        "images": [
            {
                "content_id": str(part["Content-ID"]).strip("<>"),
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "base64": base64.b64encode(part.get_content()).decode(),
            }
            for part in parsed.walk()
            if part.get_content_maintype() == "image"
        ],
    }
