"""Webhooks over the real local stack: a receiver on loopback gets `ticket.sold`, signed so
that the standardwebhooks library verifies it with the secret; a failing receiver gets its
retries and the log shows each attempt; 410 disables the webhook."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook as Verifier

from tests.integration.test_ticket_races import Caller, buyer, new_event, seller

pytestmark = pytest.mark.integration


class Receiver:
    """An HTTP endpoint on loopback answering the given statuses in turn (the last one
    repeats), keeping what it received."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append((dict(self.headers), body))
                status = (
                    receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} deliveries"
            time.sleep(0.05)

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(*statuses: int) -> Receiver:
        made.append(Receiver(*statuses))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def subscribe(organizer: Caller, url: str) -> dict:
    answer = organizer("POST", "/webhooks", {"url": url, "events": ["ticket.sold"]})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_sale_reaches_a_local_receiver_signed_within_seconds(local_stack, receivers):
    _, organizer = seller(local_stack, "organizer")
    receiver = receivers(204)
    secret = subscribe(organizer, receiver.url)["secret"]
    event_id = new_event(organizer, 5)

    started = time.monotonic()
    sold = Caller(local_stack)("POST", "/sold-tickets", {"event_id": event_id, "buyer": buyer()})
    receiver.wait_for(1)

    assert time.monotonic() - started < 5
    headers, body = receiver.received[0]
    payload = Verifier(secret).verify(body, headers)
    assert payload["type"] == "ticket.sold"
    assert payload["data"]["ticket_ids"] == [t["id"] for t in sold.json()["tickets"]]


def test_500_twice_then_200_is_three_attempts_in_the_log(local_stack, receivers):
    _, organizer = seller(local_stack, "organizer")
    receiver = receivers(500, 500, 200)
    webhook_id = subscribe(organizer, receiver.url)["webhook"]["id"]
    Caller(local_stack)(
        "POST", "/sold-tickets", {"event_id": new_event(organizer, 5), "buyer": buyer()}
    )

    receiver.wait_for(3)
    deadline = time.monotonic() + 10
    while True:
        [logged] = organizer("GET", f"/webhooks/{webhook_id}/deliveries").json()["deliveries"]
        if logged["status"] == "delivered" or time.monotonic() > deadline:
            break
        time.sleep(0.1)

    assert (logged["status"], logged["attempts"], logged["last_status"]) == ("delivered", 3, 200)
    assert len({h["webhook-id"] for h, _ in receiver.received}) == 1  # one message, three tries


def test_410_disables_the_webhook(local_stack, receivers):
    _, organizer = seller(local_stack, "organizer")
    receiver = receivers(410)
    webhook_id = subscribe(organizer, receiver.url)["webhook"]["id"]
    event_id = new_event(organizer, 5)
    anyone = Caller(local_stack)
    anyone("POST", "/sold-tickets", {"event_id": event_id, "buyer": buyer()})
    receiver.wait_for(1)
    deadline = time.monotonic() + 10
    while organizer("GET", f"/webhooks/{webhook_id}").json()["webhook"]["active"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)

    anyone("POST", "/sold-tickets", {"event_id": event_id, "buyer": buyer()})
    time.sleep(1.5)

    assert len(receiver.received) == 1
