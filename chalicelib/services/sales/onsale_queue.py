"""The on-sale queue: a fair order for a hot event's buyers, without one hot item.

An event with a queue (`queue_opens_at`, `queue_admit_per_second`) takes buyers' orders from
`opens_at` on only with an admission. Anyone may take a place (`join`): one UpdateItem adding 1
to one of COUNTERS counters of the place's band, picked at random, so arrivals spread over 16
partition keys. The place is a short signed token (HMAC) naming the event, the band, the
counter and the number the counter gave; nothing else is stored per place.

- **Late** places (taken from `opens_at` on) interleave: counter k's n-th place is position
  (n - 1) * COUNTERS + k + 1 behind every early place. Counters taken at random grow evenly, so
  the positions are in arrival order up to that small spread.
- **Early** places (taken before `opens_at`) are shuffled at `opens_at`: once the early
  counters stop moving, the early places are numbered 1..E (counter by counter) and that number
  goes through a keyed permutation of 1..E (a Feistel network over HMAC-SHA256, keyed by the
  event and the server's secret): every early place gets a distinct position, in an order
  nobody can predict or influence by arriving earlier.

Admission follows position: at `opens_at + t`, positions up to `admit_per_second * t` are
admitted. An admitted place's status carries an admission token (10 minutes, bound to the
event); `POST /orders` needs it as `X-Admission`, and it is claimed in the order's own
transaction, so one place buys once.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.transactions import TransactWrite

from chalicelib.auth.tokens import (
    InvalidToken,
    QueuePlace,
    decode_admission_token,
    decode_queue_token,
    issue_admission_token,
    issue_queue_token,
)
from chalicelib.db import batch
from chalicelib.db.base import get_or_none, utcnow
from chalicelib.db.events import Event
from chalicelib.db.queue_counters import COUNTERS, EARLY, LATE, QueueCounter, counter_key
from chalicelib.db.recent_reads import LIMIT, RecentReads
from chalicelib.db.uniques import UniqueClaim, unique_key
from chalicelib.errors import Conflict, Forbidden, InvalidRequest, NotFound
from chalicelib.settings import get_settings

ADMISSION = "admission"  # the uniques kind an admission is claimed under
# Writes to the early counters still in flight at opens_at land within this; after it the
# early counts are final, and each API process keeps them.
SETTLE = timedelta(seconds=5)
_final_counts: dict[str, tuple[int, ...]] = {}
EARLY_TTL_S = 1.0
_recent_counts: RecentReads[tuple[int, ...]] = RecentReads(EARLY_TTL_S)
EVENT_TTL_S = 2.0
_events: RecentReads[Event] = RecentReads(EVENT_TTL_S)


@dataclass(frozen=True)
class Joined:
    token: str
    position: int | None  # None before opens_at: early places are shuffled then


@dataclass(frozen=True)
class Status:
    position: int | None
    admitted: bool
    admission: str | None
    estimated_wait_s: int


class NoQueue(Conflict):
    code = "no_queue"
    message = "This event has no on-sale queue."


class InvalidQueueToken(InvalidRequest):
    code = "invalid_queue_token"
    message = "This queue token is not valid."


class AdmissionRequired(Forbidden):
    code = "admission_required"
    message = (
        "This event sells through its on-sale queue: take a place (POST /events/{id}/queue), "
        "and once admitted send the admission as X-Admission."
    )


class AdmissionUsed(Conflict):
    code = "admission_used"
    message = "This admission has already bought an order."


def has_queue(event: Event) -> bool:
    return event.queue_opens_at is not None and bool(event.queue_admit_per_second)


def _queued(event_id: str) -> Event:
    event = _event_for_queue(event_id)
    if not has_queue(event):
        raise NoQueue()
    return event


def _event_for_queue(event_id: str) -> Event:
    """The event as the queue's routes see it: read at most once per EVENT_TTL_S per process.
    Every waiting buyer polls GET /queue/{token}; reading the event's item each time would
    make it the hot key the queue exists to avoid (3,000 reads/s per partition key). Orders
    read the event themselves, so a change of the queue applies to them at once."""
    # eventually consistent: half the cost
    event = _events.get(event_id, lambda: get_or_none(Event, event_id))
    if event is None:
        raise NotFound()
    return event


def join(event_id: str) -> Joined:
    """A place in the event's queue: one write to one of its counters."""
    event = _queued(event_id)
    now = utcnow()
    if event.time <= now:
        raise Conflict("This event has already taken place.", code="event_over")
    band = EARLY if now < event.queue_opens_at else LATE
    counter = secrets.randbelow(COUNTERS)
    item = QueueCounter(id=counter_key(event_id, band, counter))
    item.update(actions=[QueueCounter.taken.add(1)])  # answers the new count
    place = QueuePlace(event_id, band, counter, int(item.taken))
    token = issue_queue_token(place)
    return Joined(token, _position(event, place, now))


def status(token: str) -> Status:
    """Where a place stands, and its admission once its turn has come."""
    try:
        place = decode_queue_token(token)
    except InvalidToken:
        raise InvalidQueueToken() from None
    event = _queued(place.event_id)
    now = utcnow()
    position = _position(event, place, now)
    if position is None:  # an early place before opens_at: shuffled when the queue opens
        wait = math.ceil((event.queue_opens_at - now).total_seconds())
        return Status(None, False, None, max(wait, 0))
    through = admitted_through(event, now)
    if position > through:
        wait = math.ceil((position - through) / int(event.queue_admit_per_second))
        return Status(position, False, None, wait)
    admission_id = hashlib.sha256(token.encode()).hexdigest()[:32]
    admission = issue_admission_token(event_id=event.id, admission_id=admission_id,
                                      position=position)  # fmt: skip
    return Status(position, True, admission, 0)


def admitted_through(event: Event, now: datetime) -> int:
    """The last position admitted at `now`."""
    elapsed = (now - event.queue_opens_at).total_seconds()
    return max(0, math.floor(elapsed * int(event.queue_admit_per_second)))


def _position(event: Event, place: QueuePlace, now: datetime) -> int | None:
    if now < event.queue_opens_at:
        return None  # early places are shuffled when the queue opens
    early = _early_counts(event, now)
    total = sum(early)
    if place.band == LATE:
        return total + (place.number - 1) * COUNTERS + place.counter + 1
    if place.counter >= COUNTERS or not 1 <= place.number <= early[place.counter]:
        raise InvalidQueueToken()
    dense = sum(early[: place.counter]) + place.number - 1  # 0 .. total - 1
    return shuffled(dense, total, _shuffle_key(event.id)) + 1


def _early_counts(event: Event, now: datetime) -> tuple[int, ...]:
    """The early counters, read at most once per EARLY_TTL_S per process while they may still
    move (every waiting buyer polls in the first seconds: 16 reads each would make the counters
    hot keys), and kept for good once final."""
    final = _final_counts.get(event.id)
    if final is not None:
        return final

    def read() -> tuple[int, ...]:
        keys: list[batch.Key] = [(QueueCounter, counter_key(event.id, EARLY, k), None)
                                 for k in range(COUNTERS)]  # fmt: skip
        counts = tuple(int(c.taken) if c is not None else 0 for c in batch.get_items(keys))
        if utcnow() >= event.queue_opens_at + SETTLE:
            if len(_final_counts) >= LIMIT:
                _final_counts.clear()
            _final_counts[event.id] = counts
        return counts

    return _recent_counts.get(event.id, read)


def _shuffle_key(event_id: str) -> bytes:
    secret = get_settings().jwt_secret.encode()
    return hmac.new(secret, f"onsale-queue\n{event_id}".encode(), hashlib.sha256).digest()


def shuffled(index: int, size: int, key: bytes) -> int:
    """A keyed permutation of range(size): a 4-round Feistel network on the smallest even
    number of bits that holds size, walked until it lands inside the range."""
    if not 0 <= index < size:
        raise ValueError("index outside the range")
    half = max(1, ((size - 1).bit_length() + 1) // 2)
    mask = (1 << half) - 1
    value = index
    while True:
        left, right = value >> half, value & mask
        for round_ in range(4):
            digest = hmac.new(key, f"{round_}:{right}".encode(), hashlib.sha256).digest()
            left, right = right, left ^ (int.from_bytes(digest[:8], "big") & mask)
        value = (left << half) | right
        if value < size:
            return value


# --- orders -------------------------------------------------------------------------------


def admission_needed(event: Event, now: datetime) -> bool:
    return has_queue(event) and now >= event.queue_opens_at


def check_admission(event: Event, header: str | None) -> str:
    """The admission id an order of this event may claim (403 without a valid one)."""
    if not header:
        raise AdmissionRequired()
    try:
        event_id, admission_id = decode_admission_token(header)
    except InvalidToken:
        raise AdmissionRequired("This admission is not valid or has expired.") from None
    if event_id != event.id:
        raise AdmissionRequired("This admission is for another event.")
    return admission_id


def add_claim(tx: TransactWrite, admission_id: str, order_id: str) -> None:
    """The admission used, in the order's own transaction: a second order with it is refused."""
    claim = UniqueClaim(key=unique_key(ADMISSION, admission_id), owner_id=order_id)
    tx.save(claim, condition=UniqueClaim.key.does_not_exist())


def claimed(admission_id: str) -> bool:
    return get_or_none(UniqueClaim, unique_key(ADMISSION, admission_id),
                       consistent_read=True) is not None  # fmt: skip
