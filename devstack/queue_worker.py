"""The side-effects worker in the local stack: feeds the emulator's side-effects queue to the
handler the deployed function runs (`chalicelib.consumers.side_effects.carry_out_batch`), as
Lambda's SQS mapping does: up to ten messages a batch, up to CONCURRENCY batches at once, the
messages that succeeded deleted, the failed ones left to come back after the visibility
timeout (and parked in the dead-letter queue after five receives, by the queue itself).

The emulator serves one request at a time, so the queue is polled (no long polling, which
would hold every other caller up) every POLL_INTERVAL_S while it is empty.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from chalicelib import aws
from chalicelib.consumers.side_effects import carry_out_batch
from chalicelib.services.stream.side_effects import queue_url

CONCURRENCY = 16
POLL_INTERVAL_S = 0.05

log = logging.getLogger("devstack.queue_worker")


def run(stop: list[bool]) -> None:
    sqs = aws.client("sqs")
    url = queue_url()
    running: set[Future[None]] = set()
    with ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="side-effects") as pool:
        while not stop[0]:
            running = {f for f in running if not f.done()}
            if len(running) >= CONCURRENCY:
                time.sleep(POLL_INTERVAL_S)
                continue
            try:
                messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            except Exception:
                if stop[0]:
                    return  # the stack is stopping: the emulator may be gone already
                log.exception("side-effects queue unreadable; trying again")
                time.sleep(1)
                continue
            batch = messages.get("Messages", [])
            if not batch:
                time.sleep(POLL_INTERVAL_S)
                continue
            running.add(pool.submit(_carry_out, sqs, url, batch))


def _carry_out(sqs: Any, url: str, batch: list[dict[str, Any]]) -> None:
    outcomes = dict(carry_out_batch([(m["MessageId"], m["Body"]) for m in batch]))
    done = [m for m in batch if outcomes.get(m["MessageId"]) is None]
    if done:
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)


def start(stop: list[bool]) -> threading.Thread:
    """The worker on a thread of its own (the stream poller's process runs both)."""
    thread = threading.Thread(target=run, args=(stop,), name="queue-worker", daemon=True)
    thread.start()
    return thread
