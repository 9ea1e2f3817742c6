"""The on-sale queue over HTTP on the local stack: buyers who all came early are shuffled at
opens_at, admitted in position order, and buy in that order; every place is distinct and every
admission buys once. RATE_LIMITS=off: all the buyers are one address here."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from bench.onsale import spearman
from tests.integration.test_ticket_races import Caller, buyer, seller

pytestmark = pytest.mark.integration

BUYERS = 40
ADMIT_PER_SECOND = 5


def test_early_buyers_are_shuffled_then_admitted_and_buy_in_position_order(local_stack):
    _, organizer = seller(local_stack, "organizer")
    opens = datetime.now(UTC) + timedelta(seconds=6)
    queue = {"opens_at": opens.isoformat(), "admit_per_second": ADMIT_PER_SECOND}
    time_ = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    body = {"title": "Hot", "time": time_, "price": "40", "currency_code": "EUR",
            "number_of_tickets": 500, "queue": queue}  # fmt: skip
    created = organizer("POST", "/events", body)
    assert created.status_code == 201, created.text
    event_id = created.json()["event"]["id"]
    anonymous = Caller(local_stack)
    before_opening = anonymous("POST", "/orders", {"event_id": event_id, "buyer": buyer(),
                                                  "items": [{"quantity": 1}]})  # fmt: skip
    assert before_opening.status_code == 201  # before opens_at no admission is needed
    results: list[tuple[int, float]] = []
    problems: list[str] = []
    lock = threading.Lock()

    def buyer_goes() -> None:
        caller = Caller(local_stack)
        place = caller("POST", f"/events/{event_id}/queue")
        if place.status_code != 201:
            problems.append(place.text)
            return
        token = place.json()["queue_token"]
        joined_at = time.monotonic()
        time.sleep(max(0.0, (opens - datetime.now(UTC)).total_seconds()) + 0.2)
        while True:
            found = caller("GET", f"/queue/{token}").json()
            if found["admitted"]:
                break
            time.sleep(min(found["estimated_wait_s"], 0.1) or 0.05)
        body = {"event_id": event_id, "items": [{"quantity": 1}], "buyer": buyer()}
        bought = caller("POST", "/orders", body, **{"X-Admission": found["admission"]})
        again = caller("POST", "/orders", {**body, "buyer": buyer()},
                       **{"X-Admission": found["admission"]})  # fmt: skip
        with lock:
            if bought.status_code != 201 or again.status_code != 409:
                problems.append(f"{bought.status_code} {again.status_code} {again.text}")
            results.append((found["position"], time.monotonic(), joined_at))

    threads = [threading.Thread(target=buyer_goes) for _ in range(BUYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not problems, problems[:3]
    positions = [p for p, _, _ in results]
    assert sorted(positions) == list(range(1, BUYERS + 1))
    correlation = spearman(positions, [t for _, t, _ in results])
    arrival = spearman(positions, [j for _, _, j in results])
    print(f"rank correlation between position and purchase: {correlation:.4f}; "
          f"between arrival and position: {arrival:.2f}")  # fmt: skip
    assert correlation >= 0.99
    # Early arrivals were shuffled: arriving first bought nothing (random: |rho| ~ 0.16).
    assert abs(arrival) < 0.6
    sold = organizer("GET", f"/events/{event_id}").json()["event"]["sold"]
    assert sold == BUYERS + 1
