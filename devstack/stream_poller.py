"""The event stream's consumer in the local stack: polls the emulator's `changes` stream and
hands each new record to the same handler the deployed consumer runs
(`chalicelib.consumers.changes.handle_records`), a few times a second, queues the webhook
attempts whose time has come, and every few seconds ends the reserved orders whose hold ran
out (deployed, both are scheduled functions that run every minute). The side-effects worker
(devstack/queue_worker.py) runs alongside, on threads of this process.

As on AWS, a record whose handling fails comes back: here it is retried with backoff, and
after MAX_ATTEMPTS it is parked (printed, and kept in `parked`) so later records go on.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from datetime import datetime, timedelta
from typing import Any

from chalicelib import aws
from chalicelib.consumers.changes import handle_records
from chalicelib.db.base import utcnow
from chalicelib.services.sales import orders
from chalicelib.services.stream import webhook_deliveries
from chalicelib.settings import get_settings
from devstack import queue_worker
from devstack.streams import StreamReader, as_handler_input

POLL_INTERVAL_S = 0.25
BATCH_SIZE = 25  # the deployed consumer's (chalicelib/consumers/changes.py)
MAX_ATTEMPTS = 5
SWEEP_INTERVAL_S = 5.0

log = logging.getLogger("devstack.stream_poller")


def run(stop: list[bool]) -> None:
    reader = StreamReader(
        aws.client("dynamodbstreams"),
        aws.client("dynamodb"),
        get_settings().table_name("changes"),
    )
    parked: list[dict[str, Any]] = []
    swept_until: datetime | None = None
    next_sweep = 0.0
    while not stop[0]:
        try:
            records = reader.read()
        except Exception:
            if stop[0]:
                return  # the whole stack is stopping: the emulator may be gone already
            raise
        for start in range(0, len(records), BATCH_SIZE):
            batch = records[start : start + BATCH_SIZE]
            _handle_batch(batch, parked, stop)
            reader.ack(len(batch))
        try:
            webhook_deliveries.queue_due()  # deployed: a scheduled function, every minute
        except Exception:
            if stop[0]:
                return
            log.exception("queueing the webhook attempts due failed")
        if time.monotonic() >= next_sweep and not stop[0]:
            swept_until = _sweep(swept_until)
            next_sweep = time.monotonic() + SWEEP_INTERVAL_S
        time.sleep(POLL_INTERVAL_S)


def _sweep(swept_until: datetime | None) -> datetime | None:
    """End the holds that ran out since the last sweep (the first looks back an hour, as the
    deployed function always does). Returns how far it got."""
    now = utcnow()
    since = swept_until - timedelta(minutes=1) if swept_until else None
    try:
        ended = orders.sweep(now, since=since)
    except Exception:
        log.warning("order expiry sweep failed; next try in %.0f s", SWEEP_INTERVAL_S)
        return swept_until
    if ended:
        print(f"[orders] {ended} reserved order(s) expired, their tickets back on sale", flush=True)
    return now


def _handle_batch(
    records: list[dict[str, Any]], parked: list[dict[str, Any]], stop: list[bool]
) -> None:
    """A batch at once, as the deployed consumer gets it; when it fails, its records one at a
    time, so the one that fails is retried and parked alone (handling is idempotent)."""
    if len(records) > 1:
        try:
            handle_records(as_handler_input(records))
            return
        except Exception:
            log.warning("a batch of %d stream records failed: one at a time now", len(records))
    for record in records:
        _handle_with_retries(record, parked, stop)


def _handle_with_retries(
    record: dict[str, Any], parked: list[dict[str, Any]], stop: list[bool]
) -> None:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            handle_records(as_handler_input([record]))
            return
        except Exception:
            log.exception("stream record %s failed (attempt %d)", record["eventID"], attempt)
            if stop[0]:
                return
            time.sleep(min(0.2 * 2**attempt, 5))
    parked.append(record)
    print(f"[stream] parked record {record['eventID']} after {MAX_ATTEMPTS} attempts: "
          f"{json.dumps(record['dynamodb'].get('Keys'))}", flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("botocore", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stop = [False]

    def on_signal(*_: object) -> None:
        stop[0] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker = queue_worker.start(stop)
    run(stop)
    worker.join(timeout=15)  # an attempt under way finishes (10 s at most) before we exit
    return 0


if __name__ == "__main__":
    sys.exit(main())
