"""The waiting list: people who want tickets of a sold-out type, by priority, then first come.

One entry per email and ticket type (its id is derived from them, so joining twice is one
put refused by its own condition). While an entry waits it carries `queue` ("<event>#<type>"),
which puts it in a sparse index ordered by `position`: the matching reads the head of one
type's queue, never the whole list. The ticket type's `waiting` counts the entries waiting,
kept in the same transactions that join, leave and offer.
"""

from __future__ import annotations

import hashlib

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.db.base import TableModel, table_meta, utcnow
from chalicelib.email.addresses import normalize_email

WAITING = "waiting"
OFFERED = "offered"
CLAIMED = "claimed"
LAPSED = "lapsed"
LEFT = "left"
STATUSES = (WAITING, OFFERED, CLAIMED, LAPSED, LEFT)
ENDED = (CLAIMED, LAPSED, LEFT)  # an email may join again after these


def entry_id(event_id: str, ticket_type_id: str, email: str) -> str:
    key = f"{event_id}\n{ticket_type_id}\n{normalize_email(email)}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


PRIORITY_MAX = 100


def position(priority: int, joined: str) -> str:
    """The queue's sort key: higher priority first, then the time of joining (`joined`)."""
    return f"{PRIORITY_MAX - priority:03d}#{joined}"


def joined_part(position_: str) -> str:
    return position_.split("#", 1)[1]


def queue_key(event_id: str, ticket_type_id: str) -> str:
    return f"{event_id}#{ticket_type_id}"


class WaitingQueue(GlobalSecondaryIndex["WaitingEntry"]):
    """Sparse: only entries still waiting, in queue order."""

    class Meta:
        index_name = "queue-index"
        projection = AllProjection()

    queue = UnicodeAttribute(hash_key=True)
    position = UnicodeAttribute(range_key=True)


class EntriesByEvent(GlobalSecondaryIndex["WaitingEntry"]):
    class Meta:
        index_name = "event-index"
        projection = AllProjection()

    event_id = UnicodeAttribute(hash_key=True)
    position = UnicodeAttribute(range_key=True)


class WaitingEntry(TableModel):
    Meta = table_meta("waiting-list")

    id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute()
    ticket_type_id = UnicodeAttribute()
    quantity = NumberAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    phone = UnicodeAttribute()
    status = UnicodeAttribute()
    priority = NumberAttribute(default=0)  # 0..PRIORITY_MAX, set by the organizer
    # Queue order (see `position`): priority, the time of joining (microseconds, UTC) and a
    # random tie-breaker.
    position = UnicodeAttribute()
    queue = UnicodeAttribute(null=True)  # only while waiting
    order_id = UnicodeAttribute(null=True)  # the offer
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    by_queue = WaitingQueue()
    by_event = EntriesByEvent()
