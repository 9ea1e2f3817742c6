"""Reads an API process keeps for a moment, because thousands of requests a second would
otherwise read the same item (a hot on-sale's event, its queue's counters): DynamoDB serves one
partition key 3,000 reads a second at most, and a throttled read is a buyer answered late.

One read at a time per key: when a burst of requests finds nothing kept (the first poll after
the queue opens, every buyer at once), one of them reads and the rest wait for its answer
instead of each reading the item again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

LIMIT = 1000  # keys kept per process; past it everything is forgotten at once


class RecentReads(Generic[V]):
    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._kept: dict[Hashable, tuple[float, V]] = {}
        self._reading: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, read: Callable[[], V]) -> V:
        """What `read` answered for `key` less than ttl_s ago, else its answer now (kept unless
        it is None, so a missing item is read again)."""
        kept = self._fresh(key)
        if kept is not None:
            return kept[1]
        with self._lock:
            reading = self._reading.setdefault(key, threading.Lock())
        with reading:
            kept = self._fresh(key)  # read by the request this one waited for
            if kept is not None:
                return kept[1]
            value = read()
            if value is not None:
                self.put(key, value)
            return value

    def peek(self, key: Hashable) -> V | None:
        """What is kept for `key` if it is recent enough, without reading."""
        kept = self._fresh(key)
        return kept[1] if kept is not None else None

    def put(self, key: Hashable, value: V) -> None:
        """Keep what a request read anyway."""
        with self._lock:
            if len(self._kept) >= LIMIT:
                self._kept.clear()
                self._reading.clear()
            self._kept[key] = (time.monotonic(), value)

    def forget(self, key: Hashable | None = None) -> None:
        with self._lock:
            if key is None:
                self._kept.clear()
            else:
                self._kept.pop(key, None)

    def _fresh(self, key: Hashable) -> tuple[float, V] | None:
        kept = self._kept.get(key)
        if kept is not None and time.monotonic() - kept[0] < self.ttl_s:
            return kept
        return None
