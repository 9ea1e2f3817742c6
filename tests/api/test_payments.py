"""Card payments through the local Stripe: paying a reserved order, Stripe's webhook, late
payments and what settles them exactly once."""

import json
from datetime import timedelta

import pytest

from chalicelib.db.base import utcnow
from chalicelib.db.orders import Order
from chalicelib.db.tickets import Ticket
from chalicelib.db.uniques import UniqueClaim
from chalicelib.services.sales import orders
from tests.api.test_orders import counts, new_event, place
from tests.conftest import bearer, buyer_body, make_user, sent_emails
from tests.stripe_fake import (
    CARD_3DS,
    CARD_DECLINED,
    authenticate,
    card_token,
    event,
    post_event,
    sign,
    stripe_get,
)


@pytest.fixture
def organizer(tables):
    return make_user("organizer", name="Venue")


def reserve(api, organizer, *, quantity=2, capacity=20, buyer=None):
    event_id = new_event(api, organizer, payment="online", capacity=capacity)
    response = place(api, event_id, [{"quantity": quantity}], buyer=buyer)
    assert response.status_code == 201, response.json_body
    return event_id, response.json_body


def pay(api, placed, number="4242424242424242"):
    order_id = placed["order"]["id"]
    return api.post(
        f"/orders/{order_id}/pay", {"card_token": card_token(number)}, as_=placed["order_token"]
    )


def intent_of(order_id):
    return stripe_get(f"payment_intents/{Order.get(order_id).payment_intent_id}")


def succeeded_event(order_id, **changes):
    """A `payment_intent.succeeded` for the order's intent, as Stripe would send it (the
    intent paid at the fake first, so the fake agrees)."""
    intent = intent_of(order_id)
    return event("payment_intent.succeeded", {**intent, "status": "succeeded", **changes})


def charge(intent_id, number="4242424242424242"):
    """Pay an intent at the fake directly, as Stripe.js would, without the API knowing."""
    from chalicelib.payments import stripe_api

    return stripe_api.pay_with_card(intent_id, card_token(number))


# --- paying on the checkout page's route ------------------------------------------------------


def test_an_online_order_opens_one_payment_intent_for_its_total(api, organizer):
    event_id, placed = reserve(api, organizer)
    order = placed["order"]

    assert order["status"] == "reserved"
    payment = order["payment"]
    assert payment["provider"] == "stripe"
    assert payment["client_secret"].startswith("pi_")
    assert payment["checkout_url"].startswith(f"http://api.test/orders/{order['id']}/pay?token=")
    intent = intent_of(order["id"])
    assert (intent["amount"], intent["currency"], intent["status"]) == (
        10000, "gbp", "requires_payment_method")  # fmt: skip
    assert intent["metadata"] == {"order_id": order["id"], "event_id": event_id}
    assert counts(event_id, event_id) == (0, 2)


def test_paying_with_a_good_card_issues_the_tickets_at_once(api, organizer):
    event_id, placed = reserve(api, organizer)

    response = pay(api, placed)

    assert response.status_code == 200, response.json_body
    order = response.json_body["order"]
    assert (order["status"], order["paid"], order["refunded"]) == ("paid", "100.00", "0.00")
    assert len(order["tickets"]) == 2
    assert response.json_body["next_action"] is None
    assert order["payment"]["checkout_url"] is None
    assert counts(event_id, event_id) == (2, 0)
    stored = Order.get(order["id"])
    assert stored.paid_intent_id == stored.payment_intent_id
    assert stored.due_minute is None
    (confirmation,) = sent_emails()
    assert len(confirmation.images) == 2


def test_a_declined_card_says_why_and_leaves_the_order_reserved_for_another_card(api, organizer):
    event_id, placed = reserve(api, organizer)
    first_intent = Order.get(placed["order"]["id"]).payment_intent_id

    declined = pay(api, placed, CARD_DECLINED)

    assert declined.status_code == 402
    assert declined.json_body["code"] == "card_declined"
    assert "declined" in declined.json_body["error"]
    read = api.get(f"/orders/{placed['order']['id']}", as_=placed["order_token"])
    assert read.json_body["order"]["status"] == "reserved"
    assert counts(event_id, event_id) == (0, 2)

    retried = pay(api, placed)

    assert retried.json_body["order"]["status"] == "paid"
    stored = Order.get(placed["order"]["id"])
    # A tried intent is not reused: the retry paid a fresh one, the old one was cancelled.
    assert stored.paid_intent_id != first_intent and stored.payment_attempts == 2
    assert stripe_get(f"payment_intents/{first_intent}")["status"] == "canceled"
    assert counts(event_id, event_id) == (2, 0)


def test_a_card_asking_for_3d_secure_is_settled_once_the_buyer_authenticates(api, organizer):
    _, placed = reserve(api, organizer)
    order_id = placed["order"]["id"]

    response = pay(api, placed, CARD_3DS)

    assert response.status_code == 200
    assert response.json_body["next_action"] == "authenticate"
    assert response.json_body["order"]["status"] == "reserved"
    secret = response.json_body["client_secret"]
    authenticate(Order.get(order_id).payment_intent_id, secret, success=True)
    # No webhook reaches this test's API: reading the order asks Stripe and settles it.
    read = api.get(f"/orders/{order_id}", as_=placed["order_token"])
    assert read.json_body["order"]["status"] == "paid"
    assert len(read.json_body["order"]["tickets"]) == 2


def test_a_failed_3d_secure_check_leaves_the_order_reserved(api, organizer):
    _, placed = reserve(api, organizer)
    order_id = placed["order"]["id"]
    secret = pay(api, placed, CARD_3DS).json_body["client_secret"]

    authenticate(Order.get(order_id).payment_intent_id, secret, success=False)

    read = api.get(f"/orders/{order_id}", as_=placed["order_token"])
    assert read.json_body["order"]["status"] == "reserved"
    assert pay(api, placed).json_body["order"]["status"] == "paid"


def test_only_the_orders_own_tokens_pay_it(api, organizer):
    _, placed = reserve(api, organizer)
    _, other = reserve(api, organizer)
    order_id = placed["order"]["id"]
    body = {"card_token": card_token()}

    assert api.post(f"/orders/{order_id}/pay", body, as_=other["order_token"]).status_code == 403
    assert api.post(f"/orders/{order_id}/pay", body, as_=organizer).status_code == 403
    assert api.post(f"/orders/{order_id}/pay", body).status_code == 401
    checkout = placed["order"]["payment"]["checkout_url"].split("token=")[1]
    # The checkout link's token pays and reads its order, but cannot cancel it.
    assert api.post(f"/orders/{order_id}/cancel", as_=checkout).status_code == 403
    assert api.post(f"/orders/{order_id}/pay", body, as_=checkout).status_code == 200


def test_an_expired_or_paid_order_cannot_be_paid_again(api, organizer):
    _, placed = reserve(api, organizer)
    orders.sweep(utcnow() + timedelta(minutes=20))

    response = pay(api, placed)

    assert response.status_code == 409
    assert response.json_body["code"] == "order_not_reserved"
    _, paid = reserve(api, organizer)
    assert pay(api, paid).status_code == 200
    assert pay(api, paid).json_body["code"] == "order_not_reserved"


def test_bad_card_tokens_are_refused_and_change_nothing(api, organizer):
    event_id, placed = reserve(api, organizer)
    order_id = placed["order"]["id"]
    for body in ({}, {"card_token": ""}, {"card_token": "tok with spaces"}, {"card_token": 5}):
        response = api.post(f"/orders/{order_id}/pay", body, as_=placed["order_token"])
        assert response.status_code == 400, body
    unknown = api.post(
        f"/orders/{order_id}/pay", {"card_token": "tok_unknown"}, as_=placed["order_token"]
    )
    assert unknown.status_code in (402, 502)
    assert Order.get(order_id).status == "reserved"
    assert counts(event_id, event_id) == (0, 2)


# --- Stripe's webhook ---------------------------------------------------------------------------


def test_a_signed_success_webhook_pays_the_order_once(api, client, organizer):
    event_id, placed = reserve(api, organizer)
    order_id = placed["order"]["id"]
    charge(Order.get(order_id).payment_intent_id)
    payload = succeeded_event(order_id)

    first = post_event(client, payload)
    again = post_event(client, payload)

    assert (first.status_code, first.json_body["outcome"]) == (200, "paid")
    assert (again.status_code, again.json_body["outcome"]) == (200, "already")
    stored = Order.get(order_id)
    assert stored.status == "paid" and len(stored.ticket_ids) == 2
    assert len(list(Ticket.scan())) == 2
    assert UniqueClaim.get(f"stripe-event:{payload['id']}").owner_id == order_id
    assert counts(event_id, event_id) == (2, 0)
    assert len(sent_emails()) == 1


def test_webhooks_that_are_not_stripes_change_nothing(api, client, organizer):
    _, placed = reserve(api, organizer)
    order_id = placed["order"]["id"]
    charge(Order.get(order_id).payment_intent_id)
    payload = succeeded_event(order_id)
    body = json.dumps(payload).encode()

    refused = [
        post_event(client, payload, signature="t=1,v1=deadbeef"),
        post_event(client, payload, signature=""),
        post_event(client, payload, signature=sign(body, secret="whsec_someone_else")),
        # A genuine delivery replayed past the 300 s tolerance.
        post_event(client, payload, at=int(utcnow().timestamp()) - 301),
    ]

    assert [r.status_code for r in refused] == [400] * 4
    assert {r.json_body["code"] for r in refused} == {"bad_signature"}
    assert Order.get(order_id).status == "reserved"


def test_a_success_for_another_amount_currency_or_order_changes_nothing(api, client, organizer):
    event_id, placed = reserve(api, organizer)
    order_id = placed["order"]["id"]
    charge(Order.get(order_id).payment_intent_id)

    cheaper = post_event(client, succeeded_event(order_id, amount=100))
    dollars = post_event(client, succeeded_event(order_id, currency="usd"))
    stranger = post_event(client, succeeded_event(order_id, metadata={"order_id": "nope"}))
    none = post_event(client, succeeded_event(order_id, metadata={}))

    assert [r.status_code for r in (cheaper, dollars)] == [400, 400]
    assert cheaper.json_body["code"] == "payment_mismatch"
    assert [r.status_code for r in (stranger, none)] == [404, 404]
    assert Order.get(order_id).status == "reserved"
    assert counts(event_id, event_id) == (0, 2)


def test_event_types_the_api_does_not_use_are_answered_and_ignored(client, tables):
    response = post_event(client, event("customer.created", {"id": "cus_1"}))

    assert (response.status_code, response.json_body["outcome"]) == (200, "ignored")


def test_reading_an_order_settles_a_payment_whose_webhook_was_lost(api, organizer):
    _, placed = reserve(api, organizer)
    order_id = placed["order"]["id"]
    charge(Order.get(order_id).payment_intent_id)

    read = api.get(f"/orders/{order_id}", as_=placed["order_token"])

    assert read.json_body["order"]["status"] == "paid"
    assert len(read.json_body["order"]["tickets"]) == 2


# --- late payments ------------------------------------------------------------------------------


def expire(order_id):
    order = Order.get(order_id)
    assert orders.end_hold(order, "expired", actor=None, now=order.expires_at)


def test_a_late_payment_with_stock_left_takes_it_again_and_pays(api, client, organizer):
    event_id, placed = reserve(api, organizer)
    order_id = placed["order"]["id"]
    expire(order_id)
    assert counts(event_id, event_id) == (0, 0)
    charge(Order.get(order_id).payment_intent_id)

    response = post_event(client, succeeded_event(order_id))

    assert response.json_body["outcome"] == "paid"
    stored = Order.get(order_id)
    assert stored.status == "paid" and stored.ended_at is None
    assert counts(event_id, event_id) == (2, 0)


def test_a_late_payment_whose_stock_was_resold_is_refunded_in_full(api, client, organizer):
    buyer = buyer_body()
    event_id, placed = reserve(api, organizer, capacity=2, buyer=buyer)
    order_id = placed["order"]["id"]
    expire(order_id)
    resold = place(api, event_id, [{"quantity": 2}], buyer=buyer_body(email="next@example.com"))
    assert pay(api, resold.json_body).json_body["order"]["status"] == "paid"
    intent_id = Order.get(order_id).payment_intent_id
    charge(intent_id)
    sent_before = len(sent_emails())

    response = post_event(client, succeeded_event(order_id))
    again = post_event(client, succeeded_event(order_id))

    assert response.json_body["outcome"] == "refunded"
    assert again.json_body["outcome"] == "already"
    stored = Order.get(order_id)
    assert (stored.status, stored.paid_minor, stored.refunded_minor) == ("refunded", 10000, 10000)
    (refund,) = stored.refunds
    assert (refund.source, refund.status) == ("late_payment", "succeeded")
    made = stripe_get(f"refunds?payment_intent={intent_id}")["data"]
    assert [(r["id"], r["amount"]) for r in made] == [(refund.provider_refund_id, 10000)]
    assert counts(event_id, event_id) == (2, 0)
    assert not stored.ticket_ids
    emails = sent_emails()[sent_before:]
    assert [e.to for e in emails] == [[buyer["email"]]]
    assert "after the hold on your tickets had ended" in emails[0].body


def test_a_second_payment_of_a_paid_order_is_refunded(api, client, organizer):
    _, placed = reserve(api, organizer)
    order_id = placed["order"]["id"]
    first = Order.get(order_id).payment_intent_id
    charge(first)
    assert api.get(f"/orders/{order_id}", as_=placed["order_token"]).status_code == 200
    from chalicelib.payments import stripe_api

    second = stripe_api.create_intent(
        order_id=order_id, event_id="x", amount_minor=10000, currency_code="GBP",
        idempotency_key="another",
    )  # fmt: skip
    charge(second.id)

    response = post_event(client, event("payment_intent.succeeded", stripe_get(
        f"payment_intents/{second.id}")))  # fmt: skip

    assert response.json_body["outcome"] == "refunded"
    stored = Order.get(order_id)
    assert stored.status == "paid" and stored.paid_intent_id == first
    assert [r.source for r in stored.refunds] == ["duplicate_payment"]


def test_bearer_of_the_wrong_kind_cannot_reach_the_payment_routes(api, organizer):
    _, placed = reserve(api, organizer)
    buyer = make_user("reseller")
    response = api.post(
        f"/orders/{placed['order']['id']}/pay", {"card_token": "tok_x"}, headers=bearer(buyer)
    )
    assert response.status_code == 403


def test_two_requests_opening_an_intent_at_once_leave_the_order_one(api, organizer):
    """The fake makes a new intent per call whatever the idempotency key; the order's
    conditional write keeps the first stored, and the loser's intent is cancelled."""
    from chalicelib.services.sales import payments

    _, placed = reserve(api, organizer)
    order_id = placed["order"]["id"]
    stored = Order.get(order_id)
    stale = Order.get(order_id)
    stale.payment_intent_id = None  # as read before the first request stored its intent
    Order(id=order_id).update(actions=[Order.payment_intent_id.remove()])
    stored.refresh()

    first = payments._open_intent(stored, replacing=None)
    second = payments._open_intent(stale, replacing=None)

    assert first.payment_intent_id == second.payment_intent_id
    intents = stripe_get("payment_intents?limit=100")["data"]
    made = [i for i in intents if i["metadata"].get("order_id") == order_id]
    # The one placing the order made (set aside above), the first request's, the second's.
    assert len(made) == 3
    loser = next(i for i in made[::-1] if i["id"] not in (placed["order"]["payment"][
        "client_secret"].split("_secret_")[0], first.payment_intent_id))  # fmt: skip
    assert loser["status"] == "canceled"
    assert stripe_get(f"payment_intents/{first.payment_intent_id}")["status"] == (
        "requires_payment_method")  # fmt: skip


def test_retrying_an_order_with_its_key_opens_no_second_intent(api, organizer):
    event_id = new_event(api, organizer, payment="online")
    body = [{"quantity": 1}]
    key = {"Idempotency-Key": "pay-once"}
    buyer = buyer_body()

    first = place(api, event_id, body, buyer=buyer, headers=key).json_body
    again = place(api, event_id, body, buyer=buyer, headers=key).json_body

    assert again["order"]["id"] == first["order"]["id"]
    assert again["order"]["payment"]["client_secret"] == first["order"]["payment"]["client_secret"]
    intents = stripe_get("payment_intents?limit=100")["data"]
    assert len([i for i in intents if i["metadata"].get("order_id") == first["order"]["id"]]) == 1


def test_without_stripe_an_online_event_takes_no_order_and_holds_nothing(
    api, organizer, monkeypatch
):
    from chalicelib.settings import get_settings

    event_id = new_event(api, organizer, payment="online")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "")
    get_settings.cache_clear()
    try:
        response = place(api, event_id, [{"quantity": 1}])
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()

    assert (response.status_code, response.json_body["code"]) == (503, "payments_not_configured")
    assert counts(event_id, event_id) == (0, 0)


def test_the_checkout_page_escapes_what_organizers_typed_and_locks_scripts_down(
    api, client, organizer
):
    hostile = '<img src=x onerror="alert(1)">'
    event_id = new_event(api, organizer, payment="online")
    api.put(f"/events/{event_id}", {"title": hostile}, as_=organizer)
    placed = place(api, event_id, [{"quantity": 1}]).json_body
    url = placed["order"]["payment"]["checkout_url"]
    path = url.removeprefix("http://api.test")

    page = client.http.get(path)

    assert page.status_code == 200
    html = page.body.decode()
    assert hostile not in html and "&lt;img src=x" in html
    csp = page.headers["Content-Security-Policy"]
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in html
    assert "script-src 'nonce-" in csp and "http://127.0.0.1:" in csp
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    # Another order's token opens nothing.
    other = place(api, event_id, [{"quantity": 1}]).json_body["order_token"]
    refused = client.http.get(f"/orders/{placed['order']['id']}/pay?token={other}")
    assert refused.status_code == 400 and b"Link not valid" in refused.body


def test_a_crash_after_refunding_a_late_payment_refunds_it_once_on_redelivery(
    api, client, organizer, monkeypatch
):
    from chalicelib.db import transactions

    event_id, placed = reserve(api, organizer, capacity=2)
    order_id = placed["order"]["id"]
    expire(order_id)
    resold = place(api, event_id, [{"quantity": 2}], buyer=buyer_body())
    assert pay(api, resold.json_body).json_body["order"]["status"] == "paid"
    intent_id = Order.get(order_id).payment_intent_id
    charge(intent_id)
    payload = succeeded_event(order_id)
    real = transactions.write_unless_refused
    calls = []

    def crash_once(build):
        calls.append(build)
        if len(calls) == 2:  # the first tried to take the stock again; the second records
            raise RuntimeError("the function died after Stripe refunded")
        return real(build)

    # Only the late refund's record crashes: everything before it already ran.
    from chalicelib.services.sales import payments

    monkeypatch.setattr(payments.transactions, "write_unless_refused", crash_once)
    with pytest.raises(RuntimeError):
        payments.handle_event(payments.ProviderEvent(payload["id"], payload["type"],
                                                     payload["data"]["object"]))  # fmt: skip
    monkeypatch.undo()
    assert Order.get(order_id).late_refund_intent == intent_id  # decided before refunding

    again = post_event(client, payload)

    assert again.json_body["outcome"] == "refunded"
    made = stripe_get(f"refunds?payment_intent={intent_id}")["data"]
    assert [r["amount"] for r in made] == [10000]
    assert Order.get(order_id).status == "refunded"
    assert counts(event_id, event_id) == (2, 0)
