"""What the emulated SES accepted, read the way a mail client reads it: plain and raw (MIME)
messages alike become {id, source, to, subject, body, html, images}."""

from __future__ import annotations

import base64
import email
import email.policy
from typing import Any


def describe(message: Any) -> dict[str, Any]:
    """One message moto's SES backend holds (a `Message` or a `RawMessage`)."""
    raw = getattr(message, "raw_data", None)
    if raw is None:
        return {
            "id": message.id,
            "source": message.source,
            "to": message.destinations.get("ToAddresses", []),
            "subject": getattr(message, "subject", None),
            "body": getattr(message, "body", None),
            "html": None,
            "images": [],
        }
    text = raw.decode() if isinstance(raw, bytes) else raw
    parsed = email.message_from_string(text, policy=email.policy.default)
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    return {
        "id": message.id,
        "source": message.source,
        "to": list(message.destinations),
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
