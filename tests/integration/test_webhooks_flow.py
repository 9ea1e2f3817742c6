"""Webhooks over the real local stack: a receiver on loopback gets `ticket.sold`, signed so
that the standardwebhooks library verifies it with the secret; a failing receiver gets its
retries and the log shows each attempt; 410 disables the webhook."""

from __future__ import annotations

import time

import pytest
from standardwebhooks import Webhook as Verifier

from tests.integration.test_ticket_races import Caller, buyer, new_event, seller

pytestmark = pytest.mark.integration


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
