"""One organizer's slow webhooks cost only their own deliveries, over the real local stack:
twenty endpoints that answer after 10 s (the delivery timeout) hold neither another
organizer's delivery nor its buyer's email, and never have more in flight than the caps allow.

Runs on the `local_stack` fixture, with RATE_LIMITS=off (many sales from one address) and
webhook retries after 1 s."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.test_accounts_flow import wait_for_email
from tests.integration.test_ticket_races import Caller, buyer, new_event, seller
from tests.integration.test_webhooks_flow import subscribe

pytestmark = pytest.mark.integration

SLOW_S = 10.0
WEBHOOKS = 20
ACCOUNT_CAP, ENDPOINT_CAP = 5, 2


class SlowReceivers:
    """One server on loopback with a path per webhook, each answering 200 after SLOW_S;
    counts the requests in flight, per path and in all, and the most ever seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = {}
        self.most_in_all = 0
        self.most_per_path = 0
        self.arrivals: dict[str, list[str]] = {}
        self.stopping = threading.Event()
        counts = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                counts.enter(self.path, self.headers["webhook-id"])
                try:
                    counts.stopping.wait(SLOW_S)
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                finally:
                    counts.leave(self.path)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def enter(self, path: str, webhook_id: str) -> None:
        with self.lock:
            self.in_flight[path] = self.in_flight.get(path, 0) + 1
            self.arrivals.setdefault(path, []).append(webhook_id)
            self.most_per_path = max(self.most_per_path, self.in_flight[path])
            self.most_in_all = max(self.most_in_all, sum(self.in_flight.values()))

    def leave(self, path: str) -> None:
        with self.lock:
            self.in_flight[path] -= 1

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()


@pytest.fixture
def slow():
    made = SlowReceivers()
    yield made
    made.close()


def test_twenty_slow_webhooks_hold_up_neither_another_organizers_delivery_nor_its_email(
    local_stack,
    slow,
    receivers,
):
    _, busy = seller(local_stack, "organizer")
    for n in range(WEBHOOKS):
        subscribe(busy, f"{slow.base}/hook/{n}")
    _, other = seller(local_stack, "organizer")
    fast = receivers(204)
    subscribe(other, fast.url)
    busy_event, other_event = new_event(busy, 50), new_event(other, 5)
    anyone = Caller(local_stack)
    sold = anyone("POST", "/sold-tickets", {"event_id": busy_event, "buyer": buyer()})
    assert sold.status_code == 201, sold.text  # 20 slow deliveries queued
    deadline = time.monotonic() + 10
    while slow.most_in_all < ACCOUNT_CAP:  # the slow ones have taken what they may
        assert time.monotonic() < deadline, f"only {slow.most_in_all} slow deliveries started"
        time.sleep(0.05)

    other_buyer = buyer()
    started = time.monotonic()
    sold = anyone("POST", "/sold-tickets", {"event_id": other_event, "buyer": other_buyer})
    assert sold.status_code == 201, sold.text
    fast.wait_for(1, timeout_s=5)
    delivered_after = time.monotonic() - started
    wait_for_email(local_stack, other_buyer["email"], "Your tickets", timeout_s=5)
    emailed_after = time.monotonic() - started

    print(f"other organizer: delivered {delivered_after:.2f} s, emailed {emailed_after:.2f} s")
    assert delivered_after < 2, f"the other organizer's delivery took {delivered_after:.1f} s"
    assert emailed_after < 2, f"its buyer's email took {emailed_after:.1f} s"
    # Every slow endpoint gets its turn, never beyond the caps.
    deadline = time.monotonic() + 90
    while len(slow.arrivals) < WEBHOOKS:
        assert time.monotonic() < deadline, f"{len(slow.arrivals)} of {WEBHOOKS} endpoints reached"
        time.sleep(0.2)
    assert slow.most_in_all <= ACCOUNT_CAP
    assert slow.most_per_path <= ENDPOINT_CAP
    time.sleep(1.5)
    assert len(fast.received) == 1  # delivered (2xx) once, never again


def test_twenty_copies_of_one_attempt_carried_out_at_once_post_it_once(local_stack, receivers):
    """SQS may hand a message over more than once, to workers running side by side: the claim
    on the delivery lets exactly one of them POST."""
    import boto3

    _, organizer = seller(local_stack, "organizer")
    receiver = receivers(500, 204)  # the first attempt fails; the retry is the one copied
    webhook_id = subscribe(organizer, receiver.url)["webhook"]["id"]
    Caller(local_stack)(
        "POST", "/sold-tickets", {"event_id": new_event(organizer, 5), "buyer": buyer()}
    )
    deadline = time.monotonic() + 10
    while True:
        log = organizer("GET", f"/webhooks/{webhook_id}/deliveries").json()["deliveries"]
        if log and log[0]["attempts"] == 1:
            break
        assert time.monotonic() < deadline, log
        time.sleep(0.02)
    sqs = boto3.client("sqs", endpoint_url=local_stack.emulator_url, region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")  # fmt: skip
    [queue] = [u for u in sqs.list_queues()["QueueUrls"] if u.endswith("side-effects")]
    body = json.dumps({"kind": "webhook", "delivery": log[0]["id"], "attempts": 1})
    for _ in range(2):
        sqs.send_message_batch(
            QueueUrl=queue,
            Entries=[{"Id": str(n), "MessageBody": body} for n in range(10)],
        )

    receiver.wait_for(2)
    time.sleep(2)  # every copy carried out by now
    assert len(receiver.received) == 2
    [done] = organizer("GET", f"/webhooks/{webhook_id}/deliveries").json()["deliveries"]
    assert (done["status"], done["attempts"]) == ("delivered", 2)
