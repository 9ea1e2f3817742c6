"""The on-sale queue's counters: where places in an event's queue come from.

One counter item would cap a queue at one partition key's write rate (about 1,000 places a
second), so each event has COUNTERS of them per band, each its own partition key: an arrival
adds 1 to a random one, and the place it gets is that counter's new value. Counter k of N gives
places k, k + N, k + 2N, ... once they are interleaved (see services/sales/onsale_queue.py).
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.db.base import TableModel, table_meta

COUNTERS = 16  # 16 partition keys: about 16,000 arrivals a second per event and band
EARLY = "early"  # joined before the queue opened: shuffled at opens_at
LATE = "late"  # joined after: in the order they came


def counter_key(event_id: str, band: str, counter: int) -> str:
    return f"{event_id}#{band}#{counter}"


class QueueCounter(TableModel):
    Meta = table_meta("queue-counters")

    id = UnicodeAttribute(hash_key=True)
    taken = NumberAttribute(default=0)  # places this counter has given out
