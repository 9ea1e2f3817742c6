"""Card payments over real HTTP against the local stack and its local Stripe: one settle for many
parallel deliveries, late payments, and parallel refunds that never exceed the payment.

RATE_LIMITS=off (the `local_stack` fixture): these fire dozens of requests from one address.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.integration.test_order_races import online_event, type_counts
from tests.integration.test_ticket_races import Caller, buyer, seller
from tests.stripe_fake import CARD_OK, card_token, event, sign

pytestmark = pytest.mark.integration


def stripe(stack, method: str, path: str, **data) -> dict:
    response = requests.request(
        method, f"{stack.stripe_url}/v1/{path}", data=data or None,
        headers={"Authorization": "Bearer sk_test_local"}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def charge(stack, client_secret: str, number: str = CARD_OK) -> dict:
    """What the buyer's browser and Stripe do together: the card on the intent, confirmed.
    The local Stripe then sends its own signed webhook to the stack within a second."""
    intent_id = client_secret.split("_secret_")[0]
    token = card_token(number, api_url=stack.stripe_url)
    customer = stripe(stack, "POST", "customers", source=token)
    stripe(stack, "POST", f"payment_intents/{intent_id}", customer=customer["id"],
           payment_method=customer["default_source"])  # fmt: skip
    return stripe(stack, "POST", f"payment_intents/{intent_id}/confirm")


def order(stack, event_id: str, quantity: int = 2, who: dict | None = None) -> dict:
    body = {"event_id": event_id, "items": [{"quantity": quantity}], "buyer": who or buyer()}
    response = Caller(stack)("POST", "/orders", body)
    assert response.status_code == 201, response.text
    return response.json()


def post_signed(stack, payload: dict) -> requests.Response:
    body = json.dumps(payload).encode()
    return requests.post(
        f"{stack.api_url}/payments/stripe", data=body, timeout=30,
        headers={"Content-Type": "application/json", "Stripe-Signature": sign(body)},
    )  # fmt: skip


def emails_to(stack, address: str) -> list[dict]:
    sent = requests.get(f"{stack.emulator_url}/_devstack/sent-emails", timeout=5).json()["emails"]
    # Raw messages list each recipient twice (To and the envelope): one email, one entry.
    return [m for m in sent if address in m["to"]]


def wait_until(check, timeout_s: float = 15.0, every_s: float = 0.2):
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every_s)


def test_twenty_parallel_deliveries_and_the_buyers_polling_settle_the_order_once(
    local_stack,
    receivers,
):
    _, organizer = seller(local_stack, "organizer")
    receiver = receivers(204)
    hook = organizer("POST", "/webhooks", {"url": receiver.url, "events": ["order.paid"]})
    assert hook.status_code == 201, hook.text
    event_id = online_event(organizer, 10, payment="online")
    who = buyer()
    placed = order(local_stack, event_id, 2, who)
    order_id, token = placed["order"]["id"], placed["order_token"]
    intent = charge(local_stack, placed["order"]["payment"]["client_secret"])
    payload = event("payment_intent.succeeded", intent)
    reader = Caller(local_stack, token)

    def deliver(index: int) -> tuple[str, int, str]:
        if index % 3 == 2:
            answer = reader("GET", f"/orders/{order_id}")
            return "poll", answer.status_code, answer.json()["order"]["status"]
        answer = post_signed(local_stack, payload)
        return "webhook", answer.status_code, answer.json().get("outcome", answer.text)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(deliver, range(30)))

    webhooks = [r for r in results if r[0] == "webhook"]
    assert len(webhooks) == 20
    assert {status for _, status, _ in results} == {200}, results
    assert sum(outcome == "paid" for _, _, outcome in webhooks) <= 1
    final = reader("GET", f"/orders/{order_id}").json()["order"]
    assert final["status"] == "paid" and len(final["tickets"]) == 2
    tickets = organizer("GET", f"/sold-tickets?event_id={event_id}").json()["tickets"]
    assert sorted(t["id"] for t in tickets) == sorted(t["id"] for t in final["tickets"])
    assert type_counts(organizer, event_id)["General admission"] == (2, 0)
    receiver.wait_for(1)
    assert wait_until(lambda: len(emails_to(local_stack, who["email"])) >= 1)
    time.sleep(3)  # anything doubled would have arrived by now
    assert len(receiver.received) == 1
    assert len(emails_to(local_stack, who["email"])) == 1


def test_the_local_stripes_own_webhook_pays_an_order_paid_in_the_browser(local_stack):
    _, organizer = seller(local_stack, "organizer")
    event_id = online_event(organizer, 5, payment="online")
    placed = order(local_stack, event_id, 1)

    charge(local_stack, placed["order"]["payment"]["client_secret"])

    # Nobody reads the order: only the fake's signed webhook can have paid it.
    def paid() -> bool:
        return type_counts(organizer, event_id)["General admission"] == (1, 0)

    assert wait_until(paid), type_counts(organizer, event_id)


def test_a_payment_after_the_order_was_cancelled_takes_the_stock_again_if_left(local_stack):
    _, organizer = seller(local_stack, "organizer")
    event_id = online_event(organizer, 4, payment="online")
    placed = order(local_stack, event_id, 2)
    reader = Caller(local_stack, placed["order_token"])
    assert reader("POST", f"/orders/{placed['order']['id']}/cancel").status_code == 200
    assert type_counts(organizer, event_id)["General admission"] == (0, 0)

    charge(local_stack, placed["order"]["payment"]["client_secret"])

    def settled() -> dict | None:
        found = reader("GET", f"/orders/{placed['order']['id']}").json()["order"]
        return found if found["status"] == "paid" else None

    assert wait_until(settled)
    assert type_counts(organizer, event_id)["General admission"] == (2, 0)


def test_a_late_payment_whose_seats_were_resold_is_refunded_in_full_at_the_fake(local_stack):
    _, organizer = seller(local_stack, "organizer")
    event_id = online_event(organizer, 2, payment="online")
    late_buyer = buyer()
    late = order(local_stack, event_id, 2, late_buyer)
    reader = Caller(local_stack, late["order_token"])
    assert reader("POST", f"/orders/{late['order']['id']}/cancel").status_code == 200
    resold = order(local_stack, event_id, 2)
    paid = Caller(local_stack, resold["order_token"])(
        "POST", f"/orders/{resold['order']['id']}/pay",
        {"card_token": card_token(api_url=local_stack.stripe_url)},
    )  # fmt: skip
    assert paid.json()["order"]["status"] == "paid", paid.text

    intent = charge(local_stack, late["order"]["payment"]["client_secret"])

    def refunded() -> dict | None:
        found = reader("GET", f"/orders/{late['order']['id']}").json()["order"]
        return found if found["status"] == "refunded" else None

    final = wait_until(refunded)
    assert final, reader("GET", f"/orders/{late['order']['id']}").text
    assert (final["paid"], final["refunded"]) == ("80.00", "80.00")
    assert [r["source"] for r in final["refunds"]] == ["late_payment"]
    at_fake = stripe(local_stack, "GET", f"refunds?payment_intent={intent['id']}")["data"]
    assert [r["amount"] for r in at_fake] == [8000]
    assert type_counts(organizer, event_id)["General admission"] == (2, 0)
    assert wait_until(lambda: emails_to(local_stack, late_buyer["email"]))


def test_thirty_parallel_partial_refunds_never_exceed_the_payment(local_stack):
    _, organizer = seller(local_stack, "organizer")
    event_id = online_event(organizer, 10, payment="online")
    placed = order(local_stack, event_id, 2)
    order_id = placed["order"]["id"]
    paid = Caller(local_stack, placed["order_token"])(
        "POST",
        f"/orders/{order_id}/pay",
        {"card_token": card_token(api_url=local_stack.stripe_url)},
    )
    assert paid.json()["order"]["status"] == "paid"
    intent_id = placed["order"]["payment"]["client_secret"].split("_secret_")[0]

    def refund(_: int) -> int:
        return organizer("POST", f"/orders/{order_id}/refunds", {"amount": "7.00"}).status_code

    with ThreadPoolExecutor(max_workers=15) as pool:
        statuses = list(pool.map(refund, range(30)))

    assert set(statuses) <= {201, 409}, statuses
    accepted = statuses.count(201)
    assert accepted == 11  # 11 x 7.00 = 77.00 <= 80.00 < 12 x 7.00
    final = organizer("GET", f"/orders/{order_id}").json()["order"]
    assert final["refunded"] == "77.00"
    at_fake = stripe(local_stack, "GET", f"refunds?payment_intent={intent_id}&limit=100")["data"]
    assert sum(r["amount"] for r in at_fake) == 7700


def test_a_full_refund_frees_the_seats_and_the_door_refuses_the_tickets(local_stack):
    _, organizer = seller(local_stack, "organizer")
    event_id = online_event(organizer, 3, payment="online")
    placed = order(local_stack, event_id, 2)
    order_id = placed["order"]["id"]
    tickets = Caller(local_stack, placed["order_token"])(
        "POST",
        f"/orders/{order_id}/pay",
        {"card_token": card_token(api_url=local_stack.stripe_url)},
    ).json()["order"]["tickets"]
    door = organizer("POST", f"/events/{event_id}/scanners", {"name": "Gate"}).json()["token"]

    assert organizer("POST", f"/orders/{order_id}/refunds", {}).status_code == 201

    assert type_counts(organizer, event_id)["General admission"] == (0, 0)
    scan = Caller(local_stack, door)(
        "POST", f"/events/{event_id}/check-ins", {"qr": tickets[0]["qr"]}
    )
    assert (scan.status_code, scan.json()["code"]) == (409, "ticket_cancelled")
    again = order(local_stack, event_id, 3)
    assert again["order"]["status"] == "reserved"
