"""Abuse-limit counters: one item per (limit, subject, time window), expiring by TTL."""

from __future__ import annotations

import hashlib
import math
import time
from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError

from chalicelib.db.base import TableModel, table_meta
from chalicelib.db.transactions import condition_failed

# Windows follow the wall clock; tests hold it still so no window ends in the middle of one.
clock = time.time


class RateCounter(TableModel):
    Meta = table_meta("rate-limits")

    # "<limit>:<window number>:<SHA-256 of the subject>": no address or email stored in clear.
    key = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    # Readers never look at old windows, so TTL's lag of hours costs nothing but storage.
    expires_at = TTLAttribute()


def hit(name: str, subject: str, *, limit: int, window_s: int) -> int:
    """Count one request against `limit` per fixed window of `window_s` seconds.

    Returns 0 when it is allowed, else the seconds until the window ends. The condition makes
    the count exact under any concurrency: the write that would pass the limit is refused.
    """
    now = clock()
    window = int(now // window_s)
    ends = (window + 1) * window_s
    digest = hashlib.sha256(subject.encode()).hexdigest()
    counter = RateCounter(key=f"{name}:{window}:{digest}")
    try:
        counter.update(
            actions=[
                RateCounter.hits.add(1),
                RateCounter.expires_at.set(datetime.fromtimestamp(ends + 60, UTC)),
            ],
            condition=RateCounter.hits.does_not_exist() | (RateCounter.hits < limit),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return max(1, math.ceil(ends - now))
        raise
    return 0
