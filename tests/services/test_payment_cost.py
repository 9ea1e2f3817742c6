"""What card payments cost per request: DynamoDB calls and Stripe calls, whatever was sold."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.meter import metered
from chalicelib.db.orders import Order
from chalicelib.payments import stripe_api
from chalicelib.services.sales import orders, payments
from chalicelib.services.sales.buyers import BuyerDetails
from tests.conftest import make_event, make_user
from tests.stripe_fake import card_token, event, post_event, stripe_get


@pytest.fixture
def stripe_calls(monkeypatch):
    """Every call our Stripe adapter makes, by what it was for."""
    made: Counter[str] = Counter()
    real = stripe_api._call

    def counted(what, *args, **kwargs):
        made[what] += 1
        return real(what, *args, **kwargs)

    monkeypatch.setattr(stripe_api, "_call", counted)
    return made


def online_event(tables_ready):
    from chalicelib.db.events import Event

    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=100)
    Event(id=event_id).update(actions=[Event.payment.set("online")])
    return event_id


def place(event_id):
    placed = orders.place_order(
        actor=None, event_id=event_id, seller_id=None, lines=[orders.LineRequest(None, 2)],
        buyer=BuyerDetails(name="B", email="b@example.com", phone="+442079460958"),
    )  # fmt: skip
    return payments.start_payment(placed.order)


def test_an_online_order_adds_one_stripe_call_and_one_write(tables, stripe_calls):
    event_id = online_event(tables)

    with metered() as meter:
        order = place(event_id)

    assert order.payment_intent_id.startswith("pi_")
    assert dict(stripe_calls) == {"create intent": 1}
    # The order's read and transaction, then the intent stored on it.
    assert meter.cost.operations == ["BatchGetItem", "TransactWriteItems", "UpdateItem"]


def test_the_webhooks_happy_path_is_two_dynamodb_calls_and_no_stripe_call(client, stripe_calls):
    order = place(online_event(None))
    stripe_api.pay_with_card(order.payment_intent_id, card_token())
    payload = event(
        "payment_intent.succeeded", stripe_get(f"payment_intents/{order.payment_intent_id}")
    )
    stripe_calls.clear()

    with metered() as meter:
        response = post_event(client, payload)

    assert response.json_body["outcome"] == "paid"
    assert dict(stripe_calls) == {}
    # The order read, then one transaction: paid, tickets, stock, counter, event id, changes.
    assert meter.cost.operations == ["GetItem", "TransactWriteItems"]
    assert len(meter.cost.operations) <= 3
    with metered() as again:
        assert post_event(client, payload).json_body["outcome"] == "already"
    assert again.cost.operations == ["GetItem"]


def test_a_card_refund_is_one_transaction_and_one_stripe_refund(api, stripe_calls):
    from tests.conftest import admin_user

    order = place(online_event(None))
    stripe_api.pay_with_card(order.payment_intent_id, card_token())
    payments.poll(Order.get(order.id))
    stripe_calls.clear()

    admin = admin_user()
    with metered() as meter:
        response = api.post(f"/orders/{order.id}/refunds", {"amount": "10"}, as_=admin)

    assert response.status_code == 201, response.json_body
    # Refunds already made for this id are looked for first: the fake ignores idempotency keys.
    assert dict(stripe_calls) == {"list refunds": 1, "refund": 1}
    # The order read, the refund's transaction; then, once Stripe made it, its outcome marked on
    # the order read again (its place in the list) and updated.
    assert meter.cost.operations == ["GetItem", "TransactWriteItems", "GetItem", "UpdateItem"]
