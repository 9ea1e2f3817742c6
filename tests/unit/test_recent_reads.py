"""Reads kept for a moment per process, one read at a time per key."""

import threading
import time

from chalicelib.db import recent_reads
from chalicelib.db.recent_reads import RecentReads


def test_a_burst_of_callers_reads_once_and_all_get_the_answer():
    kept: RecentReads[str] = RecentReads(ttl_s=5)
    reads = []
    gate = threading.Event()

    def read() -> str:
        reads.append(1)
        gate.wait(2)  # the others arrive while this read is under way
        return "answer"

    answers = []
    threads = [threading.Thread(target=lambda: answers.append(kept.get("k", read)))
               for _ in range(20)]  # fmt: skip
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    gate.set()
    for thread in threads:
        thread.join(5)
    assert answers == ["answer"] * 20
    assert len(reads) == 1


def test_an_answer_is_read_again_after_its_time_and_none_is_not_kept(monkeypatch):
    kept: RecentReads[int] = RecentReads(ttl_s=1)
    clock = [100.0]
    monkeypatch.setattr(recent_reads.time, "monotonic", lambda: clock[0])
    values = iter([1, 2])
    assert kept.get("k", lambda: next(values)) == 1
    clock[0] += 0.9
    assert kept.get("k", lambda: 99) == 1
    clock[0] += 0.2
    assert kept.get("k", lambda: next(values)) == 2
    missing = []
    assert kept.get("gone", lambda: missing.append(1)) is None
    assert kept.get("gone", lambda: missing.append(1)) is None
    assert len(missing) == 2  # a missing item is looked for again


def test_keys_are_apart_and_forgotten_on_request():
    kept: RecentReads[str] = RecentReads(ttl_s=60)
    assert kept.get("a", lambda: "A") == "A"
    assert kept.get("b", lambda: "B") == "B"
    assert kept.get("a", lambda: "other") == "A"
    kept.forget("a")
    assert kept.get("a", lambda: "again") == "again"
    assert kept.get("b", lambda: "other") == "B"
