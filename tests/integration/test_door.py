"""The door over real HTTP: one ticket scanned by many devices at once gets in exactly once;
a revoked device is refused on its very next request. (`local_stack` runs with
RATE_LIMITS=off: 50 requests from one address in a second is the point here.)"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.auth import offline
from tests.integration.test_ticket_races import Caller, buyer, new_event, seller

pytestmark = pytest.mark.integration

CLIENTS = 16
DEVICES = 4
SCANS = 50


def test_50_parallel_check_ins_of_one_ticket_from_16_clients_let_it_in_once(local_stack):
    _, organizer = seller(local_stack, "organizer")
    event_id = new_event(organizer, 10)
    ticket = Caller(local_stack)("POST", "/sold-tickets", {"event_id": event_id, "buyer": buyer()})
    ticket = ticket.json()["tickets"][0]
    key_set = Caller(local_stack)("GET", "/ticket-keys").json()
    assert offline.verify_ticket(ticket["qr"], key_set).ticket_id == ticket["id"]
    tokens = [
        organizer("POST", f"/events/{event_id}/scanners", {"name": f"Gate {n}"}).json()["token"]
        for n in range(DEVICES)
    ]
    clients = [Caller(local_stack, tokens[n % DEVICES]) for n in range(CLIENTS)]

    def scan(n):
        # Scan n and scan n + 8 come from the same device with the same nonce: a retry.
        body = {"qr": ticket["qr"], "nonce": f"scan-{n % 8}"}
        answer = clients[n % CLIENTS]("POST", f"/events/{event_id}/check-ins", body)
        return n, answer

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        answers = list(pool.map(scan, range(SCANS)))

    statuses = Counter(answer.status_code for _, answer in answers)
    assert statuses[201] == 1, statuses
    assert set(statuses) <= {200, 201, 409}, statuses
    (winner,) = [n for n, answer in answers if answer.status_code == 201]
    first = answers[winner][1].json()
    for n, answer in answers:
        same_scan = n % 8 == winner % 8  # same nonce, and so the same device
        if answer.status_code == 200:
            assert same_scan and answer.json() == first
        elif answer.status_code == 409:
            body = answer.json()
            assert body["code"] == "already_checked_in"
            assert body["details"]["checked_in_at"] == first["check_in"]["checked_in_at"]
    door = organizer("GET", f"/events/{event_id}/check-ins").json()
    assert (door["sold"], door["checked_in"]) == (1, 1)
    assert [c["ticket_id"] for c in door["check_ins"]] == [ticket["id"]]


def test_a_revoked_scanner_is_refused_on_its_next_request(local_stack):
    _, organizer = seller(local_stack, "organizer")
    event_id = new_event(organizer, 10)
    created = organizer("POST", f"/events/{event_id}/scanners", {"name": "Gate"}).json()
    device = Caller(local_stack, created["token"])
    assert device("GET", f"/events/{event_id}/check-ins").status_code == 200

    path = f"/events/{event_id}/scanners/{created['scanner']['id']}"
    assert organizer("DELETE", path).status_code == 204

    refused = device("GET", f"/events/{event_id}/check-ins")
    assert refused.status_code in (401, 403)
    assert set(refused.json()) == {"error", "code"}
    assert refused.headers["X-Request-Id"]


def test_the_confirmation_email_read_from_the_emulator_carries_each_tickets_qr(local_stack):
    from tests.api.test_bookings import decoded_qr
    from tests.integration.test_accounts_flow import wait_for_email

    _, organizer = seller(local_stack, "organizer")
    event_id = new_event(organizer, 10)
    who = buyer()
    booked = Caller(local_stack)(
        "POST", "/sold-tickets", {"event_id": event_id, "quantity": 2, "buyer": who}
    )
    tickets = booked.json()["tickets"]

    message = wait_for_email(local_stack, who["email"], "Your tickets")
    assert [t["code"] in message["body"] for t in tickets] == [True, True]
    assert [decoded_qr(image) for image in message["images"]] == [t["qr"] for t in tickets]
