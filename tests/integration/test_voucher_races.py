"""A voucher under real concurrency, against the local stack (`local_stack` runs with
RATE_LIMITS=off: a hundred orders come from one address here, which the limits exist to stop).

Its uses are counted in the transaction that takes each order's stock, so parallel orders can
never use it more than `max_uses` times, whatever mix of ticket types they ask for.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.test_accounts_flow import admin_token
from tests.integration.test_local_stack import emulator_client
from tests.integration.test_order_races import all_orders, online_event
from tests.integration.test_ticket_races import Caller, buyer, seller

pytestmark = pytest.mark.integration


def _backdate(stack, order_ids: list[str]) -> None:
    """Let time pass for these holds only: their `expires_at` moved a minute into the past,
    as if their hold had run out (what ends them is the API's own code, below)."""
    dynamodb = emulator_client(stack, "dynamodb")
    [table] = [n for n in dynamodb.list_tables()["TableNames"] if n.endswith("orders")]
    past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    for order_id in order_ids:
        dynamodb.update_item(
            TableName=table, Key={"id": {"S": order_id}},
            UpdateExpression="SET expires_at = :past",
            ExpressionAttributeValues={":past": {"S": past}},
        )  # fmt: skip


def test_100_parallel_orders_use_a_voucher_of_10_exactly_10_times(local_stack):
    _, organizer = seller(local_stack, "organizer")
    event_id = online_event(organizer, 500, payment="online", hold_minutes=30)
    vip = organizer("POST", f"/events/{event_id}/ticket-types",
                    {"name": "VIP", "price": "90"}).json()["ticket_type"]  # fmt: skip
    voucher = organizer("POST", f"/events/{event_id}/vouchers", {
        "code": "TEN", "discount": {"type": "percent", "value": "20"}, "max_uses": 10,
    }).json()["voucher"]  # fmt: skip
    admin = Caller(local_stack, admin_token(local_stack))
    rng = random.Random(22)

    def body() -> dict:
        items = rng.choice([
            [{"ticket_type_id": vip["id"], "quantity": rng.randint(1, 2)}],
            [{"ticket_type_id": event_id, "quantity": rng.randint(1, 2)}],
            [{"ticket_type_id": vip["id"], "quantity": 1},
             {"ticket_type_id": event_id, "quantity": 1}],
        ])  # fmt: skip
        return {"event_id": event_id, "items": items, "buyer": buyer(), "voucher": "ten"}

    bodies = [body() for _ in range(100)]
    callers = [Caller(local_stack) for _ in range(16)]

    def place(index: int):
        return callers[index % 16]("POST", "/orders", bodies[index])

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(place, range(100)))

    statuses = [a.status_code for a in answers]
    assert statuses.count(201) == 10, {a.status_code: a.text for a in answers}
    assert {a.json()["code"] for a in answers if a.status_code != 201} == {"voucher_not_valid"}
    orders = all_orders(admin, event_id)
    assert len(orders) == 10 and {o["voucher"] for o in orders} == {"TEN"}
    read = organizer("GET", f"/events/{event_id}/vouchers/{voucher['id']}").json()["voucher"]
    assert read["uses"] == 10
    # Refused orders held nothing: what is held is exactly what the ten orders hold.
    types = organizer("GET", f"/events/{event_id}/ticket-types").json()["ticket_types"]
    held = sum(line["quantity"] for o in orders for line in o["items"])
    assert sum(t["held"] for t in types) == held

    # Three holds run out: their uses come back, and exactly three more orders get through.
    ended = [o["id"] for o in orders[:3]]
    _backdate(local_stack, ended)
    for order_id in ended:  # reading an overdue order ends its hold, as the sweep would
        assert admin("GET", f"/orders/{order_id}").json()["order"]["status"] == "expired"
    read = organizer("GET", f"/events/{event_id}/vouchers/{voucher['id']}").json()["voucher"]
    assert read["uses"] == 7

    more = [body() for _ in range(30)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        again = list(pool.map(lambda i: callers[i % 16]("POST", "/orders", more[i]), range(30)))
    assert [a.status_code for a in again].count(201) == 3, [a.text for a in again]
    read = organizer("GET", f"/events/{event_id}/vouchers/{voucher['id']}").json()["voucher"]
    assert read["uses"] == 10
    live = [o for o in all_orders(admin, event_id) if o["status"] == "reserved"]
    assert len(live) == 10
