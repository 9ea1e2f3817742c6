"""The waiting list on the local stack: returned seats offered within seconds, in queue order,
held so that nobody else can buy them (`local_stack` runs with RATE_LIMITS=off: dozens of
requests come from one address here)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.test_order_races import online_event
from tests.integration.test_payments_flow import wait_until
from tests.integration.test_ticket_races import Caller, buyer, seller
from tests.integration.test_voucher_races import _backdate

pytestmark = pytest.mark.integration


def test_returned_seats_go_to_the_queue_within_seconds_and_in_order(local_stack):
    _, organizer = seller(local_stack, "organizer")
    event_id = online_event(organizer, 5, payment="online")
    anonymous = Caller(local_stack)
    line = lambda n: {"event_id": event_id, "items": [{"quantity": n}], "buyer": buyer()}  # noqa: E731
    three = anonymous("POST", "/orders", line(3)).json()
    assert anonymous("POST", "/orders", line(2)).status_code == 201
    quantities = [2, 3, 1, 1, 2, 3, 1, 2]
    for quantity in quantities:
        body = {"ticket_type_id": event_id, "quantity": quantity, "buyer": buyer()}
        assert anonymous("POST", f"/events/{event_id}/waiting-list", body).status_code == 202

    def statuses() -> list[str]:
        entries = organizer("GET", f"/events/{event_id}/waiting-list").json()["entries"]
        return [e["status"] for e in entries]

    cancelled_at = time.monotonic()
    order_url = f"/orders/{three['order']['id']}/cancel"
    assert Caller(local_stack, three["order_token"])("POST", order_url).status_code == 200
    # Meanwhile 20 buyers try to take the returned seats: the waiting list comes first.
    with ThreadPoolExecutor(max_workers=8) as pool:
        tries = list(pool.map(lambda _: anonymous("POST", "/orders", line(1)), range(20)))
    offered = wait_until(lambda: statuses()[0] == "offered", 5, every_s=0.05)
    took = time.monotonic() - cancelled_at
    print(f"offered {took:.2f} s after the cancel")

    assert offered, statuses()
    assert took <= 5, took
    assert {t.status_code for t in tries} == {409}
    # 3 seats: the first entry's 2 are offered; the next wants 3, so the last seat waits.
    time.sleep(1)
    assert statuses() == ["offered"] + ["waiting"] * 7

    # The offer lapses unpaid: its 2 seats and the waiting one go to the next entry (3).
    entries = organizer("GET", f"/events/{event_id}/waiting-list").json()["entries"]
    _backdate(local_stack, [entries[0]["order_id"]])
    assert organizer("GET", f"/orders/{entries[0]['order_id']}").json()["order"]["status"] == (
        "expired"
    )
    assert wait_until(lambda: statuses()[:3] == ["lapsed", "offered", "waiting"], 5,
                      every_s=0.05), statuses()  # fmt: skip
    types = organizer("GET", f"/events/{event_id}/ticket-types").json()["ticket_types"]
    assert (types[0]["held"], types[0]["available"]) == (5, 0)  # 2 + the offer's 3


def test_parallel_joins_of_one_email_make_one_entry_and_parallel_leaves_count_once(local_stack):
    _, organizer = seller(local_stack, "organizer")
    event_id = online_event(organizer, 2, payment="online")
    anonymous = Caller(local_stack)
    body = {"event_id": event_id, "items": [{"quantity": 2}], "buyer": buyer()}
    assert anonymous("POST", "/orders", body).status_code == 201  # sold out
    person = buyer()
    spellings = [person["email"], person["email"].upper(), person["email"].title()]

    def join(n: int):
        entry = {"ticket_type_id": event_id, "quantity": 1 + n % 2,
                 "buyer": {**person, "email": spellings[n % 3]}}  # fmt: skip
        return anonymous("POST", f"/events/{event_id}/waiting-list", entry)

    with ThreadPoolExecutor(max_workers=8) as pool:
        joins = list(pool.map(join, range(20)))

    assert {j.status_code for j in joins} == {202}
    assert len({j.text for j in joins}) == 1  # one answer, whoever came first
    [entry] = organizer("GET", f"/events/{event_id}/waiting-list").json()["entries"]
    report = organizer("GET", f"/events/{event_id}/report").json()["report"]
    assert report["ticket_types"][0]["waiting"] == 1

    # The organizer removes it, moves it and removes it again, all at once: it leaves once.
    def act(n: int):
        if n % 2:
            return organizer("PUT", f"/waiting-list/{entry['id']}", {"priority": n})
        return organizer("DELETE", f"/waiting-list/{entry['id']}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(act, range(16)))

    assert {a.status_code for a in answers if a.request.method == "DELETE"} == {204}
    assert {a.status_code for a in answers if a.request.method == "PUT"} <= {200, 409}
    [after] = organizer("GET", f"/events/{event_id}/waiting-list").json()["entries"]
    assert after["status"] == "left"
    report = organizer("GET", f"/events/{event_id}/report").json()["report"]
    assert report["ticket_types"][0]["waiting"] == 0
