"""Side effects as units of work of their own. The event stream's consumer only decides what a
change calls for (services/stream/announcements.py) and puts one message per email and per webhook
attempt on the side-effects queue; a function of its own (consumers/side_effects.py) carries
each out, many at once, each with its own retries. A slow or dead receiver then holds only its
own messages: nobody else's email or delivery waits behind it.

Messages are small JSON objects, carried out at least once and safe to carry out twice: an
email goes through `deliveries.once`, a webhook attempt claims its delivery first.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from typing import Any

from chalicelib import aws
from chalicelib.db.changes import Change
from chalicelib.settings import get_settings

log = logging.getLogger(__name__)

EMAIL = "email"
WEBHOOK = "webhook"
QUEUE = "side-effects"
SEND_BATCH = 10  # SQS's most per SendMessageBatch

_urls: dict[str, str] = {}
_urls_lock = threading.Lock()


class QueueRefused(RuntimeError):
    """The queue did not take every message (the caller's retry sends them again)."""


def email_message(change: Change) -> dict[str, Any]:
    """The email `change` calls for; the change travels whole (no read to carry it out)."""
    return {"kind": EMAIL, "change": change.serialize()}


def webhook_message(delivery_id: str, attempts: int) -> dict[str, Any]:
    """An attempt of a delivery, valid while the delivery has made `attempts` attempts (a
    message that arrives after another attempt was made does nothing)."""
    return {"kind": WEBHOOK, "delivery": delivery_id, "attempts": attempts}


def queue_url() -> str:
    """The template sets it deployed; the local stack and the tests look it up by name once."""
    settings = get_settings()
    if settings.side_effects_queue_url:
        return settings.side_effects_queue_url
    name = settings.queue_name(QUEUE)
    with _urls_lock:
        if name not in _urls:
            _urls[name] = aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
        return _urls[name]


def enqueue(messages: Iterable[dict[str, Any]]) -> int:
    """Put the messages on the queue, ten a call; returns how many."""
    pending = list(messages)
    for start in range(0, len(pending), SEND_BATCH):
        chunk = pending[start : start + SEND_BATCH]
        entries = [
            {"Id": str(i), "MessageBody": json.dumps(m, separators=(",", ":"), sort_keys=True)}
            for i, m in enumerate(chunk)
        ]
        answer = aws.client("sqs").send_message_batch(QueueUrl=queue_url(), Entries=entries)
        if answer.get("Failed"):
            raise QueueRefused(f"{len(answer['Failed'])} of {len(entries)} messages refused")
    return len(pending)


def carry_out(body: str) -> None:
    """Carry out one message; raises when it should be tried again."""
    from chalicelib.services.stream import announcements, webhook_deliveries  # they enqueue too

    try:
        message = json.loads(body)
        kind = message["kind"]
    except (ValueError, KeyError, TypeError):
        log.error("side effect dropped: not a message of ours: %.200r", body)
        return
    if kind == EMAIL:
        announcements.send_email(Change.from_raw_data(message["change"]))
    elif kind == WEBHOOK:
        webhook_deliveries.attempt_queued(message["delivery"], int(message["attempts"]))
    else:
        log.error("side effect dropped: unknown kind %r", kind)
