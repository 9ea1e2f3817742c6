"""Orders: one transaction for every line, holds that end on time exactly once, order tokens."""

import json
from datetime import timedelta

import pytest

from chalicelib.db.allocations import Allocation
from chalicelib.db.base import utcnow
from chalicelib.db.orders import Order
from chalicelib.db.ticket_types import TicketType
from chalicelib.db.tickets import Ticket
from chalicelib.services.sales import orders
from tests.conftest import admin_user, buyer_body, drain_stream, make_user, sent_emails

ORDER_KEYS = {
    "id", "status", "event_id", "seller_id", "buyer_id", "items", "total", "currency_code",
    "created_at", "expires_at", "paid_at", "ended_at", "payment", "tickets",
    "paid", "refunded", "refunds", "dispute", "voucher",
}  # fmt: skip


@pytest.fixture
def organizer(tables):
    return make_user("organizer", name="Venue")


def new_event(api, organizer, *, payment="offline", capacity=20, hold_minutes=15, price="50"):
    body = {"title": "Show", "time": (utcnow() + timedelta(days=10)).isoformat(),
            "price": price, "currency_code": "GBP", "number_of_tickets": capacity,
            "payment": payment, "hold_minutes": hold_minutes}  # fmt: skip
    response = api.post("/events", body, as_=organizer)
    assert response.status_code == 201, response.json_body
    return response.json_body["event"]["id"]


def add_vip(api, event_id, organizer, **extra):
    body = {"name": "VIP", "price": "120", **extra}
    return api.post(f"/events/{event_id}/ticket-types", body, as_=organizer).json_body[
        "ticket_type"
    ]["id"]


def place(api, event_id, items, *, as_=None, buyer=None, headers=None):
    body = {"event_id": event_id, "items": items, "buyer": buyer or buyer_body()}
    return api.post("/orders", body, as_=as_, headers=headers)


def counts(event_id, type_id):
    ticket_type = TicketType.get(event_id, type_id, consistent_read=True)
    return ticket_type.sold, ticket_type.held


def test_an_offline_order_of_two_types_is_paid_at_once_with_its_tickets(api, organizer):
    event_id = new_event(api, organizer)
    vip = add_vip(api, event_id, organizer)

    response = place(api, event_id, [{"ticket_type_id": event_id, "quantity": 2},
                                     {"ticket_type_id": vip, "quantity": 1}])  # fmt: skip

    assert response.status_code == 201, response.json_body
    order = response.json_body["order"]
    assert set(order) == ORDER_KEYS
    assert (order["status"], order["total"], order["expires_at"]) == ("paid", "220.00", None)
    assert [(i["name"], i["quantity"], i["unit_price"]) for i in order["items"]] == [
        ("General admission", 2, "50.00"), ("VIP", 1, "120.00")]  # fmt: skip
    assert sorted(t["ticket_type_name"] for t in order["tickets"]) == [
        "General admission", "General admission", "VIP"]  # fmt: skip
    assert {t["order_id"] for t in order["tickets"]} == {order["id"]}
    assert response.json_body["email"] == "queued"
    assert (counts(event_id, event_id), counts(event_id, vip)) == ((2, 0), (1, 0))
    (confirmation,) = sent_emails()
    assert len(confirmation.images) == 3
    assert "2 x General admission at 50.00 GBP; 1 x VIP at 120.00 GBP" in confirmation.body
    # The order token reads that order and nothing else.
    token = response.json_body["order_token"]
    mine = api.get(f"/orders/{order['id']}", as_=token)
    assert mine.status_code == 200
    assert len(mine.json_body["order"]["tickets"]) == 3
    assert api.get(f"/events/{event_id}/allocations", as_=token).status_code == 403
    other = place(api, event_id, [{"ticket_type_id": vip, "quantity": 1}]).json_body
    assert api.get(f"/orders/{other['order']['id']}", as_=token).status_code == 403


def test_an_online_order_is_reserved_and_holds_its_stock_until_it_expires(api, organizer):
    event_id = new_event(api, organizer, payment="online", capacity=5, hold_minutes=1)

    placed = place(api, event_id, [{"quantity": 3}]).json_body
    order = placed["order"]

    assert order["status"] == "reserved"
    assert order["tickets"] is None and placed["email"] is None
    expires_at = Order.get(order["id"]).expires_at
    assert timedelta(seconds=55) < expires_at - utcnow() <= timedelta(minutes=1)
    event = api.get(f"/events/{event_id}").json_body["event"]
    assert (event["sold"], event["held"], event["available"]) == (0, 3, 2)
    assert place(api, event_id, [{"quantity": 3}]).status_code == 409
    assert Ticket.count() == 0

    assert orders.sweep(expires_at + timedelta(seconds=1)) == 1
    assert orders.sweep(expires_at + timedelta(seconds=2)) == 0  # once
    ended = api.get(f"/orders/{order['id']}", as_=placed["order_token"]).json_body["order"]
    assert ended["status"] == "expired" and ended["ended_at"]
    assert counts(event_id, event_id) == (0, 0)
    assert Allocation.get(event_id, organizer.id).available == 5
    assert place(api, event_id, [{"quantity": 5}]).status_code == 201


def test_reading_an_order_past_its_time_expires_it_before_the_sweep(api, organizer):
    event_id = new_event(api, organizer, payment="online", capacity=5)
    placed = place(api, event_id, [{"quantity": 2}]).json_body
    Order(id=placed["order"]["id"]).update(
        actions=[Order.expires_at.set(utcnow() - timedelta(seconds=1))]
    )

    read = api.get(f"/orders/{placed['order']['id']}", as_=placed["order_token"])

    assert read.json_body["order"]["status"] == "expired"
    assert counts(event_id, event_id) == (0, 0)
    entries = api.get(f"/events/{event_id}/audit-log", as_=organizer).json_body["entries"]
    assert [e["action"] for e in entries if e["target_type"] == "order"] == ["order.expired"]


def test_cancelling_a_reserved_order_gives_its_stock_back_once(api, organizer):
    event_id = new_event(api, organizer, payment="online", capacity=5)
    placed = place(api, event_id, [{"quantity": 2}]).json_body
    url = f"/orders/{placed['order']['id']}/cancel"

    first = api.post(url, as_=placed["order_token"])
    second = api.post(url, as_=organizer)

    assert first.status_code == 200
    assert first.json_body["order"]["status"] == "cancelled"
    assert second.status_code == 200  # the same request twice: the same answer, released once
    assert second.json_body["order"]["ended_at"] == first.json_body["order"]["ended_at"]
    assert counts(event_id, event_id) == (0, 0)
    assert Allocation.get(event_id, organizer.id).available == 5
    assert orders.sweep(utcnow() + timedelta(hours=1)) == 0


def test_a_paid_or_expired_order_cannot_be_cancelled(api, organizer):
    event_id = new_event(api, organizer, payment="online", hold_minutes=1)
    paid = place(api, event_id, [{"quantity": 1}], as_=organizer).json_body["order"]
    held = place(api, event_id, [{"quantity": 1}]).json_body["order"]
    orders.sweep(utcnow() + timedelta(minutes=2))

    for order in (paid, held):
        refused = api.post(f"/orders/{order['id']}/cancel", as_=organizer)
        assert refused.status_code == 409
        assert refused.json_body["code"] == "order_not_reserved"
    assert counts(event_id, event_id) == (1, 0)


def test_a_cancel_after_the_sweep_releases_nothing_more(api, organizer):
    event_id = new_event(api, organizer, payment="online", capacity=5, hold_minutes=1)
    placed = place(api, event_id, [{"quantity": 2}]).json_body
    order = Order.get(placed["order"]["id"])

    assert orders.end_hold(order, "expired", actor=None, now=order.expires_at) is True
    assert orders.end_hold(order, "cancelled", actor=None) is False
    assert orders.end_hold(order, "expired", actor=None, now=order.expires_at) is False

    assert Allocation.get(event_id, organizer.id).available == 5
    assert counts(event_id, event_id) == (0, 0)


def test_a_seller_recording_its_own_sale_of_an_online_event_is_paid(api, organizer):
    event_id = new_event(api, organizer, payment="online")

    own = place(api, event_id, [{"quantity": 2}], as_=organizer).json_body
    anonymous = api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer_body()})

    assert own["order"]["status"] == "paid"
    assert anonymous.status_code == 409
    assert anonymous.json_body["code"] == "payment_required"
    assert counts(event_id, event_id) == (2, 0)


def test_sold_tickets_creates_a_paid_order_and_answers_as_before(api, organizer):
    event_id = new_event(api, organizer)

    booked = api.post("/sold-tickets", {"event_id": event_id, "quantity": 2,
                                        "buyer": buyer_body()})  # fmt: skip

    assert booked.status_code == 201
    order = Order.get(booked.json_body["order_id"])
    assert (order.status, order.ticket_ids) == ("paid", [t["id"] for t in booked.json_body[
        "tickets"]])  # fmt: skip


def test_an_order_short_on_one_line_holds_nothing_and_names_that_line(api, organizer):
    event_id = new_event(api, organizer, capacity=20)
    vip = add_vip(api, event_id, organizer, quantity=2)

    refused = place(api, event_id, [{"ticket_type_id": event_id, "quantity": 3},
                                    {"ticket_type_id": vip, "quantity": 3}])  # fmt: skip

    assert refused.status_code == 409
    assert refused.json_body["details"] == {vip: "2 available"}
    assert (counts(event_id, event_id), counts(event_id, vip)) == ((0, 0), (0, 0))
    assert Order.count() == 0 and Ticket.count() == 0


def test_a_buyer_holds_at_most_three_reserved_orders_per_event(api, organizer):
    event_id = new_event(api, organizer, payment="online", capacity=50)
    buyer = buyer_body()
    held = [place(api, event_id, [{"quantity": 1}], buyer=buyer).json_body for _ in range(3)]

    refused = place(api, event_id, [{"quantity": 1}], buyer=buyer)

    assert refused.status_code == 409
    assert refused.json_body["code"] == "too_many_reserved_orders"
    assert counts(event_id, event_id) == (0, 3)
    # Ending one hold frees a place.
    api.post(f"/orders/{held[0]['order']['id']}/cancel", as_=held[0]["order_token"])
    assert place(api, event_id, [{"quantity": 1}], buyer=buyer).status_code == 201
    assert place(api, event_id, [{"quantity": 1}]).status_code == 201  # others are not held up


def test_retrying_with_the_same_key_returns_the_first_order(api, organizer):
    event_id = new_event(api, organizer, payment="online")
    buyer = buyer_body()
    key = {"Idempotency-Key": "order-1"}

    first = place(api, event_id, [{"quantity": 2}], buyer=buyer, headers=key).json_body
    again = place(api, event_id, [{"quantity": 2}], buyer=buyer, headers=key).json_body
    other = place(api, event_id, [{"quantity": 1}], buyer=buyer, headers=key)

    assert again["order"]["id"] == first["order"]["id"]
    assert other.status_code == 422
    assert counts(event_id, event_id) == (0, 2)


def test_who_reads_lists_and_cancels_orders(api, organizer):
    event_id = new_event(api, organizer, payment="online")
    reseller = make_user("reseller")
    stranger = make_user("organizer")
    placed = place(api, event_id, [{"quantity": 1}]).json_body
    order_id = placed["order"]["id"]

    assert api.get(f"/orders/{order_id}", as_=organizer).status_code == 200
    assert api.get(f"/orders/{order_id}", as_=admin_user()).status_code == 200
    assert api.get(f"/orders/{order_id}", as_=stranger).status_code == 403
    assert api.get(f"/orders/{order_id}", as_=reseller).status_code == 403
    assert api.get(f"/orders/{order_id}").status_code == 401
    assert api.post(f"/orders/{order_id}/cancel", as_=stranger).status_code == 403
    listed = api.get(f"/orders?event_id={event_id}&status=reserved", as_=organizer).json_body
    assert [o["id"] for o in listed["orders"]] == [order_id]
    assert api.get("/orders", as_=stranger).json_body["orders"] == []
    assert api.get(f"/orders?event_id={event_id}", as_=stranger).status_code == 403
    assert api.get("/orders?status=bogus", as_=organizer).status_code == 400
    assert api.get("/orders", as_=placed["order_token"]).status_code == 403


def test_a_reseller_lists_its_own_sales_by_event_and_status(api, organizer):
    reseller = make_user("reseller")
    event_id = new_event(api, organizer, payment="online")
    other_event = new_event(api, organizer)
    for event in (event_id, other_event):
        api.put(f"/events/{event}/allocations/{reseller.id}", {"number_of_tickets": 5},
                as_=organizer)  # fmt: skip
    api.put(f"/allocations/{event_id}", {"on_sale": True}, as_=reseller)
    sold = place(api, event_id, [{"quantity": 1}], as_=reseller).json_body["order"]
    body = {"event_id": event_id, "seller_id": reseller.id, "items": [{"quantity": 1}],
            "buyer": buyer_body()}  # fmt: skip
    held = api.post("/orders", body).json_body["order"]
    place(api, other_event, [{"quantity": 1}], as_=reseller)
    place(api, event_id, [{"quantity": 1}])  # the organizer's sale: not the reseller's

    def ids(query):
        return [o["id"] for o in api.get(f"/orders{query}", as_=reseller).json_body["orders"]]

    assert ids(f"?event_id={event_id}&status=reserved") == [held["id"]]
    assert ids(f"?event_id={event_id}&status=paid") == [sold["id"]]
    assert sorted(ids(f"?event_id={event_id}")) == sorted([sold["id"], held["id"]])
    assert len(ids("")) == 3 and len(ids("?status=paid")) == 2


def test_bad_order_bodies_are_refused_and_hold_nothing(api, organizer):
    event_id = new_event(api, organizer, payment="online")
    for items in (
        [],
        [{"quantity": 0}],
        [{"quantity": 51}],
        [{"ticket_type_id": event_id, "quantity": 1}, {"ticket_type_id": event_id, "quantity": 1}],
        [{"quantity": 1}, {"ticket_type_id": event_id, "quantity": 1}],  # the same type twice
        [{"ticket_type_id": "nope", "quantity": 1}],
        [{"quantity": 1, "price": "0"}],
    ):
        response = place(api, event_id, items)
        assert response.status_code in (400, 404), items
    assert place(api, "no-such-event", [{"quantity": 1}]).status_code == 404
    assert counts(event_id, event_id) == (0, 0)


def test_paid_and_expired_orders_are_announced_to_webhooks(api, organizer, monkeypatch):
    from chalicelib.services.stream import endpoints
    from tests.conftest import FakeReceivers

    monkeypatch.setattr(endpoints, "resolve", lambda host: ["93.184.215.14"])
    receivers = FakeReceivers()
    receivers.add("https://hooks.example.com/o", 200)
    monkeypatch.setattr(endpoints, "post", receivers)
    api.post("/webhooks", {"url": "https://hooks.example.com/o",
                           "events": ["order.paid", "order.expired"]}, as_=organizer)  # fmt: skip
    offline = new_event(api, organizer)
    online = new_event(api, organizer, payment="online", hold_minutes=1)
    place(api, offline, [{"quantity": 1}])
    held = place(api, online, [{"quantity": 1}]).json_body["order"]
    orders.sweep(utcnow() + timedelta(minutes=2))

    drain_stream()

    bodies = [json.loads(call.body) for call in receivers.calls]
    assert sorted(body["type"] for body in bodies) == ["order.expired", "order.paid"]
    expired = next(body for body in bodies if body["type"] == "order.expired")
    assert expired["data"]["order_id"] == held["id"]
