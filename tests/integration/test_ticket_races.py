"""Inventory under real concurrency: parallel HTTP clients against the local stack."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.integration.test_accounts_flow import admin_token, create_verified_user, login

pytestmark = pytest.mark.integration


class Caller:
    """One HTTP client (its own connection pool), optionally logged in."""

    def __init__(self, stack, token=None):
        self.stack = stack
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method, path, body=None, **headers):
        return self.session.request(
            method, f"{self.stack.api_url}{path}", json=body, headers=headers, timeout=60
        )


def seller(stack, role):
    user_id, email, password = create_verified_user(stack, role)
    return user_id, Caller(stack, login(stack, email, password).json()["auth_token"])


def new_event(organizer: Caller, tickets: int) -> str:
    time = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    response = organizer(
        "POST",
        "/events",
        {"title": "Race", "time": time, "price": "10", "currency_code": "EUR",
         "number_of_tickets": tickets},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()["event"]["id"]


def buyer():
    return {"name": "B", "email": f"b-{uuid.uuid4().hex[:8]}@example.com", "phone": "+442079460958"}


def all_tickets(admin: Caller, event_id: str) -> list[dict]:
    tickets, token = [], None
    while True:
        query = f"/sold-tickets?event_id={event_id}&limit=200"
        page = admin("GET", query + (f"&next_token={token}" if token else "")).json()
        tickets += page["tickets"]
        token = page["next_token"]
        if not token:
            return tickets


def pools(admin: Caller, event_id: str, organizer_id: str) -> dict[str, tuple[int, int, int]]:
    event = admin("GET", f"/events/{event_id}").json()["event"]
    allocations = admin("GET", f"/events/{event_id}/allocations").json()["allocations"]
    result = {
        a["reseller_id"]: (a["number_of_tickets"], a["sold"], a["available"]) for a in allocations
    }
    allocated = sum(share for share, _, _ in result.values())
    resold = sum(sold for _, sold, _ in result.values())
    organizer_share = event["number_of_tickets"] - allocated
    organizer_sold = event["sold"] - resold
    result[organizer_id] = (organizer_share, organizer_sold, organizer_share - organizer_sold)
    return result


def wait_for_emails(stack, addresses, *, count, timeout_s=30.0):
    """The confirmations sent to `addresses` once `count` have arrived, and a moment more to
    see that no more follow."""
    deadline = time.monotonic() + timeout_s
    while True:
        emails = requests.get(f"{stack.emulator_url}/_devstack/sent-emails", timeout=5).json()
        found = [m for m in emails["emails"] if set(m["to"]) & addresses]
        if len(found) >= count:
            time.sleep(1.5)  # a duplicate would come within the poller's next rounds
            emails = requests.get(f"{stack.emulator_url}/_devstack/sent-emails", timeout=5)
            return [m for m in emails.json()["emails"] if set(m["to"]) & addresses]
        assert time.monotonic() < deadline, f"{len(found)} of {count} emails in {timeout_s} s"
        time.sleep(0.2)


def test_200_parallel_bookings_for_50_tickets_sell_exactly_50(local_stack):
    from tests.integration.conftest import Receiver

    _, organizer = seller(local_stack, "organizer")
    admin = Caller(local_stack, admin_token(local_stack))
    receiver = Receiver(200)
    hook = {"url": receiver.url, "events": ["ticket.sold"]}
    assert organizer("POST", "/webhooks", hook).status_code == 201
    event_id = new_event(organizer, 50)
    clients = [Caller(local_stack) for _ in range(16)]

    buyers = [buyer() for _ in range(200)]

    def attempt(n):
        return clients[n % 16]("POST", "/sold-tickets", {"event_id": event_id, "buyer": buyers[n]})

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(attempt, range(200)))
    statuses = [r.status_code for r in answers]

    assert statuses.count(201) == 50
    assert statuses.count(409) == 150
    event = admin("GET", f"/events/{event_id}").json()["event"]
    assert (event["sold"], event["available"]) == (50, 0)
    assert len(all_tickets(admin, event_id)) == 50
    # The event stream sends one confirmation per sale, none for a refused booking.
    sold_to = {buyers[n]["email"] for n, a in enumerate(answers) if a.status_code == 201}
    confirmations = wait_for_emails(local_stack, {b["email"] for b in buyers}, count=50)
    assert sorted(m["to"][0] for m in confirmations) == sorted(sold_to)
    # ... and one `ticket.sold` webhook delivery per sale, none twice.
    receiver.wait_for(50)
    time.sleep(1)
    sold_ids = sorted(t["id"] for a in answers if a.status_code == 201 for t in a.json()["tickets"])
    delivered = [json.loads(body) for _, body in receiver.received]
    receiver.close()
    assert len(delivered) == 50
    assert sorted(i for d in delivered for i in d["data"]["ticket_ids"]) == sold_ids


def test_sellers_selling_while_allocations_change_never_break_a_rule(local_stack):
    organizer_id, organizer = seller(local_stack, "organizer")
    resellers = [seller(local_stack, "reseller") for _ in range(2)]
    admin = Caller(local_stack, admin_token(local_stack))
    capacity = 60
    event_id = new_event(organizer, capacity)
    for reseller_id, _ in resellers:
        organizer("PUT", f"/events/{event_id}/allocations/{reseller_id}", {"number_of_tickets": 15})
    stop = threading.Event()
    statuses: list[int] = []

    def sell(caller: Caller):
        while not stop.is_set():
            body = {"event_id": event_id, "quantity": random.randint(1, 3), "buyer": buyer()}
            statuses.append(caller("POST", "/sold-tickets", body).status_code)

    def reallocate():
        for _ in range(25):
            reseller_id, _ = random.choice(resellers)
            share = random.randint(0, 25)
            path = f"/events/{event_id}/allocations/{reseller_id}"
            statuses.append(organizer("PUT", path, {"number_of_tickets": share}).status_code)
        stop.set()

    sellers = [organizer, *(caller for _, caller in resellers)]
    with ThreadPoolExecutor(max_workers=7) as pool:
        futures = [pool.submit(sell, caller) for caller in sellers for _ in range(2)]
        futures.append(pool.submit(reallocate))
        for future in futures:
            future.result()

    assert not [s for s in statuses if s >= 500]
    assert set(statuses) <= {200, 201, 409}
    final = pools(admin, event_id, organizer_id)
    tickets = all_tickets(admin, event_id)
    assert sum(share for share, _, _ in final.values()) == capacity
    assert len(tickets) == sum(sold for _, sold, _ in final.values()) <= capacity
    for seller_id, (share, sold, available) in final.items():
        assert available >= 0
        assert sold <= share
        assert sum(t["seller_id"] == seller_id for t in tickets) == sold


def test_20_parallel_retries_with_one_idempotency_key_book_once(local_stack):
    _, organizer = seller(local_stack, "organizer")
    admin = Caller(local_stack, admin_token(local_stack))
    event_id = new_event(organizer, 100)
    body = {"event_id": event_id, "quantity": 2, "buyer": buyer()}
    clients = [Caller(local_stack) for _ in range(20)]
    key = uuid.uuid4().hex

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(
            pool.map(
                lambda c: c("POST", "/sold-tickets", body, **{"Idempotency-Key": key}), clients
            )
        )

    # The key's record is created in the booking's own transaction: one attempt books, every
    # other one is refused by that record's condition and returns the same tickets.
    assert [r.status_code for r in responses] == [201] * 20
    ids = {tuple(t["id"] for t in r.json()["tickets"]) for r in responses}
    assert len(ids) == 1
    assert len(all_tickets(admin, event_id)) == 2
    retry = clients[0]("POST", "/sold-tickets", body, **{"Idempotency-Key": key})
    assert (retry.status_code, tuple(t["id"] for t in retry.json()["tickets"])) == (201, ids.pop())
