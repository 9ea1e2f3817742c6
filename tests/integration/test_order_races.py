"""Orders under real concurrency, against the local stack (`local_stack` runs with
RATE_LIMITS=off: hundreds of orders come from one address here, which the limits exist to stop).

The counts are checked against what is stored: orders and tickets, not the counters alone.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.test_accounts_flow import admin_token
from tests.integration.test_ticket_races import Caller, buyer, seller

pytestmark = pytest.mark.integration


def online_event(organizer: Caller, capacity: int, **settings) -> str:
    time_ = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    body = {"title": "Hot", "time": time_, "price": "40", "currency_code": "EUR",
            "number_of_tickets": capacity, **settings}  # fmt: skip
    response = organizer("POST", "/events", body)
    assert response.status_code == 201, response.text
    return response.json()["event"]["id"]


def all_orders(caller: Caller, event_id: str) -> list[dict]:
    found, token = [], None
    while True:
        query = f"/orders?event_id={event_id}&limit=200" + (f"&next_token={token}" if token else "")
        page = caller("GET", query).json()
        found += page["orders"]
        token = page["next_token"]
        if not token:
            return found


def type_counts(caller: Caller, event_id: str) -> dict[str, tuple[int, int]]:
    types = caller("GET", f"/events/{event_id}/ticket-types").json()["ticket_types"]
    return {t["name"]: (t["sold"], t["held"]) for t in types}


def held_by_type(orders: list[dict], status: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for order in orders:
        if order["status"] == status:
            for line in order["items"]:
                totals[line["name"]] = totals.get(line["name"], 0) + line["quantity"]
    return totals


def test_200_parallel_orders_of_two_types_never_oversell_or_half_hold(local_stack):
    _, organizer = seller(local_stack, "organizer")
    event_id = online_event(organizer, 50, payment="online")
    vip_body = {"name": "VIP", "price": "90", "quantity": 10}
    vip = organizer("POST", f"/events/{event_id}/ticket-types", vip_body).json()["ticket_type"]
    admin = Caller(local_stack, admin_token(local_stack))
    rng = random.Random(7)
    bodies = []
    for _ in range(200):
        items = rng.choice([
            [{"ticket_type_id": vip["id"], "quantity": rng.randint(1, 3)}],
            [{"ticket_type_id": event_id, "quantity": rng.randint(1, 3)}],
            [{"ticket_type_id": vip["id"], "quantity": 1},
             {"ticket_type_id": event_id, "quantity": rng.randint(1, 2)}],
        ])  # fmt: skip
        bodies.append({"event_id": event_id, "items": items, "buyer": buyer()})
    # Half the orders are a seller's own sales (paid at once), half buyers' holds.
    callers = [organizer if i % 2 else Caller(local_stack) for i in range(16)]
    stop = threading.Event()
    observed: list[tuple[int, int, int]] = []

    def watch() -> None:  # the counts, read while the orders land
        while not stop.is_set():
            types = type_counts(admin, event_id)
            sold_held = sum(s + h for s, h in types.values())
            observed.append((sold_held, sum(types["VIP"]), types["VIP"][0]))
            time.sleep(0.05)

    def place(index: int):
        return callers[index % 16]("POST", "/orders", bodies[index])

    watcher = threading.Thread(target=watch)
    watcher.start()
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(place, range(200)))
    stop.set()
    watcher.join()

    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {201, 409}, {a.status_code: a.text for a in answers}
    orders = all_orders(admin, event_id)
    assert len(orders) == statuses.count(201)
    taken = sum(line["quantity"] for o in orders for line in o["items"])
    vip_taken = sum(line["quantity"] for o in orders for line in o["items"]
                    if line["ticket_type_id"] == vip["id"])  # fmt: skip
    assert taken == 50 and vip_taken == 10  # sold out exactly, VIP never above its 10
    # Each accepted order holds every line it asked for; each refused one holds nothing.
    asked = {tuple((i["ticket_type_id"], i["quantity"]) for i in b["items"]) for b in bodies}
    assert all(tuple((i["ticket_type_id"], i["quantity"]) for i in o["items"]) in asked
               for o in orders)  # fmt: skip
    counts = type_counts(admin, event_id)
    assert counts["VIP"] == (held_by_type(orders, "paid").get("VIP", 0),
                             held_by_type(orders, "reserved").get("VIP", 0))  # fmt: skip
    tickets = admin("GET", f"/sold-tickets?event_id={event_id}&limit=200").json()["tickets"]
    assert len(tickets) == sum(s for s, _ in counts.values())
    assert all(total <= 50 and vip <= 10 for total, vip, _ in observed)
    event = admin("GET", f"/events/{event_id}").json()["event"]
    assert (event["sold"] + event["held"], event["available"]) == (50, 0)


def test_holds_of_one_minute_end_within_a_minute_and_a_racing_cancel_releases_once(
    local_stack,
):
    _, organizer = seller(local_stack, "organizer")
    event_id = online_event(organizer, 60, payment="online", hold_minutes=1)
    admin = Caller(local_stack, admin_token(local_stack))
    anonymous = Caller(local_stack)

    def hold(_: int) -> dict:
        body = {"event_id": event_id, "items": [{"quantity": 1}], "buyer": buyer()}
        response = anonymous("POST", "/orders", body)
        assert response.status_code == 201, response.text
        return response.json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        placed = list(pool.map(hold, range(50)))
    expires_at = max(datetime.fromisoformat(p["order"]["expires_at"]) for p in placed)
    assert type_counts(admin, event_id)["General admission"] == (0, 50)

    # Some buyers cancel just as their holds run out: each order ends once, either way.
    racing = placed[:10]

    def cancel(entry: dict) -> int:
        wait = datetime.fromisoformat(entry["order"]["expires_at"]) - datetime.now(UTC)
        time.sleep(max(0.0, wait.total_seconds() - 0.2))
        url = f"/orders/{entry['order']['id']}/cancel"
        return Caller(local_stack, entry["order_token"])("POST", url).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        cancel_statuses = list(pool.map(cancel, racing))
    assert set(cancel_statuses) <= {200, 409}

    deadline = expires_at + timedelta(seconds=60)
    while datetime.now(UTC) < deadline:
        if type_counts(admin, event_id)["General admission"] == (0, 0):
            break
        time.sleep(1)
    assert type_counts(admin, event_id)["General admission"] == (0, 0)
    ended_at = datetime.now(UTC)
    assert ended_at <= deadline
    statuses = [o["status"] for o in all_orders(admin, event_id)]
    assert len(statuses) == 50 and set(statuses) <= {"expired", "cancelled"}
    event = admin("GET", f"/events/{event_id}").json()["event"]
    assert (event["held"], event["available"]) == (0, 60)  # counted back once, not twice
