"""Refunds: never above what was paid, tickets cancelled with their stock back, card refunds made
through the local Stripe, offline ones recorded; dashboard refunds and disputes from Stripe."""

from datetime import timedelta

import pytest

from chalicelib.db.base import utcnow
from chalicelib.db.events import Event
from chalicelib.db.orders import Order
from chalicelib.db.tickets import Ticket
from chalicelib.payments import stripe_api
from chalicelib.payments.base import PaymentProviderUnavailable
from chalicelib.services.sales import refunds
from tests.api.test_my_tickets import open_session
from tests.api.test_orders import counts, new_event, place
from tests.api.test_payments import pay, reserve
from tests.conftest import admin_user, buyer_body, make_user, sent_emails
from tests.stripe_fake import event, post_event, stripe_get


@pytest.fixture
def organizer(tables):
    return make_user("organizer", name="Venue")


def paid_order(api, organizer, *, quantity=2, buyer=None):
    """An order of `quantity` 50.00 GBP tickets, paid by card."""
    event_id, placed = reserve(api, organizer, quantity=quantity, buyer=buyer)
    assert pay(api, placed).json_body["order"]["status"] == "paid"
    return event_id, placed["order"]["id"]


def refund(api, order_id, body, as_):
    return api.post(f"/orders/{order_id}/refunds", body, as_=as_)


def stripe_refunds(order_id):
    intent = Order.get(order_id).paid_intent_id
    return [r["amount"] for r in stripe_get(f"refunds?payment_intent={intent}")["data"]]


def test_a_full_refund_goes_back_through_stripe_and_frees_every_seat(api, organizer):
    event_id, order_id = paid_order(api, organizer)
    door = api.post(f"/events/{event_id}/scanners", {"name": "Gate"}, as_=organizer).json_body
    tickets = api.get(f"/orders/{order_id}", as_=organizer).json_body["order"]["tickets"]

    response = refund(api, order_id, {"reason": "Show moved"}, organizer)

    assert response.status_code == 201, response.json_body
    made = response.json_body["refund"]
    assert (made["amount"], made["currency_code"], made["status"]) == ("100.00", "GBP", "succeeded")
    assert sorted(made["ticket_ids"]) == sorted(t["id"] for t in tickets)
    order = api.get(f"/orders/{order_id}", as_=organizer).json_body["order"]
    assert (order["status"], order["paid"], order["refunded"]) == ("refunded", "100.00", "100.00")
    assert {t["status"] for t in order["tickets"]} == {"cancelled"}
    assert stripe_refunds(order_id) == [10000]
    assert counts(event_id, event_id) == (0, 0)
    scan = api.post(f"/events/{event_id}/check-ins", {"qr": tickets[0]["qr"]}, as_=door["token"])
    assert (scan.status_code, scan.json_body["code"]) == (409, "ticket_cancelled")
    again = refund(api, order_id, {}, organizer)
    assert (again.status_code, again.json_body["code"]) == (409, "refund_exceeds_payment")


def test_refunding_one_ticket_cancels_it_and_refunds_its_price(api, organizer):
    event_id, order_id = paid_order(api, organizer)
    first, second = Order.get(order_id).ticket_ids

    response = refund(api, order_id, {"ticket_ids": [first]}, organizer)

    assert response.json_body["refund"]["amount"] == "50.00"
    order = Order.get(order_id)
    assert (order.status, order.refunded_minor) == ("partially_refunded", 5000)
    assert Ticket.get(first).is_cancelled and not Ticket.get(second).is_cancelled
    assert counts(event_id, event_id) == (1, 0)
    assert stripe_refunds(order_id) == [5000]


def test_an_amount_alone_keeps_the_tickets_valid(api, organizer):
    event_id, order_id = paid_order(api, organizer)

    response = refund(api, order_id, {"amount": "12.50"}, organizer)

    assert response.json_body["refund"]["amount"] == "12.50"
    assert response.json_body["refund"]["ticket_ids"] is None
    assert not any(Ticket.get(t).is_cancelled for t in Order.get(order_id).ticket_ids)
    assert counts(event_id, event_id) == (2, 0)


def test_refunds_add_up_to_what_was_paid_and_no_further(api, organizer):
    _, order_id = paid_order(api, organizer)

    assert refund(api, order_id, {"amount": "60"}, organizer).status_code == 201
    over = refund(api, order_id, {"amount": "40.01"}, organizer)
    assert (over.status_code, over.json_body["code"]) == (409, "refund_exceeds_payment")
    assert over.json_body["details"] == {"left": "4000"}
    assert refund(api, order_id, {"amount": "40"}, organizer).status_code == 201

    order = Order.get(order_id)
    assert (order.status, order.refunded_minor) == ("refunded", 10000)
    assert sorted(stripe_refunds(order_id)) == [4000, 6000]
    listed = api.get(f"/orders/{order_id}/refunds", as_=organizer).json_body["refunds"]
    assert [r["amount"] for r in listed] == ["60.00", "40.00"]


def test_a_refund_checked_against_a_stale_read_is_refused_by_the_write(api, organizer):
    """Two refunds planned on the same read: the ceiling is the write's condition, so the
    second cannot take the order past what was paid (parallel requests, in one process)."""
    _, order_id = paid_order(api, organizer)
    stale = Order.get(order_id)
    actor = admin_user()
    from chalicelib.auth.principal import ADMIN, Principal

    admin = Principal(user_id=actor.id, role=ADMIN)
    plan = refunds._plan(stale, 7000, None)
    first = refunds.Refund(id="a", amount_minor=7000, status="succeeded", source="organizer",
                           created_at=utcnow())  # fmt: skip
    second = refunds.Refund(id="b", amount_minor=7000, status="succeeded", source="organizer",
                            created_at=utcnow())  # fmt: skip

    assert refunds._write(stale, plan, first, admin, None) is True
    assert refunds._write(stale, plan, second, admin, None) is False
    assert Order.get(order_id).refunded_minor == 7000


def test_an_offline_order_refund_is_recorded_without_stripe(api, organizer):
    event_id = new_event(api, organizer, payment="offline")
    order = place(api, event_id, [{"quantity": 2}]).json_body["order"]

    response = refund(api, order["id"], {"ticket_ids": [order["tickets"][0]["id"]]}, organizer)

    assert response.status_code == 201
    assert response.json_body["refund"]["status"] == "succeeded"
    assert Order.get(order["id"]).paid_intent_id is None
    assert counts(event_id, event_id) == (1, 0)


def test_only_the_events_organizer_or_an_admin_refunds(api, organizer):
    _, order_id = paid_order(api, organizer)
    for stranger in (make_user("organizer"), make_user("reseller")):
        assert refund(api, order_id, {"amount": "1"}, stranger).status_code == 403
    assert refund(api, order_id, {"amount": "1"}, admin_user()).status_code == 201
    token = Order.get(order_id).id
    assert refund(api, token, {"amount": "1"}, None).status_code == 401


def test_an_unpaid_order_cannot_be_refunded(api, organizer):
    _, placed = reserve(api, organizer)

    response = refund(api, placed["order"]["id"], {}, organizer)

    assert (response.status_code, response.json_body["code"]) == (409, "order_not_paid")


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "abc"},
        {"amount": "-1"},
        {"amount": "1.001"},
        {"amount": 5},
        {"amount": "0"},
        {"ticket_ids": []},
        {"ticket_ids": ["not-this-orders"]},
        {"reason": "x" * 501},
        {"surprise": True},
    ],
)
def test_bad_refund_bodies_are_refused_and_change_nothing(api, organizer, body):
    event_id, order_id = paid_order(api, organizer)

    response = refund(api, order_id, body, organizer)

    assert response.status_code == 400, (body, response.json_body)
    order = Order.get(order_id)
    assert (order.status, order.refunded_minor, order.refunds) == ("paid", None, None)
    assert counts(event_id, event_id) == (2, 0)


def test_a_refund_stripe_could_not_make_stays_pending_and_is_made_on_read(
    api, organizer, monkeypatch
):
    _, order_id = paid_order(api, organizer)
    real = stripe_api.refund

    def down(**_):
        raise PaymentProviderUnavailable()

    monkeypatch.setattr(stripe_api, "refund", down)
    made = refund(api, order_id, {"amount": "10"}, organizer).json_body["refund"]
    assert made["status"] == "pending"
    monkeypatch.setattr(stripe_api, "refund", real)
    monkeypatch.setattr(refunds, "RETRY_PENDING_AFTER", timedelta(0))

    order = api.get(f"/orders/{order_id}", as_=organizer).json_body["order"]

    assert [r["status"] for r in order["refunds"]] == ["succeeded"]
    assert stripe_refunds(order_id) == [1000]
    # Made once: reading again finds nothing pending.
    api.get(f"/orders/{order_id}", as_=organizer)
    assert stripe_refunds(order_id) == [1000]


def test_stripe_refunds_an_id_once_even_where_the_fake_ignores_idempotency_keys(api, organizer):
    _, order_id = paid_order(api, organizer)
    intent = Order.get(order_id).paid_intent_id

    first = stripe_api.refund(intent_id=intent, amount_minor=500, refund_id="same")
    second = stripe_api.refund(intent_id=intent, amount_minor=500, refund_id="same")

    assert first.id == second.id
    assert stripe_refunds(order_id) == [500]


def test_a_buyer_cancelling_a_card_paid_ticket_gets_its_price_back(api, organizer):
    buyer = buyer_body(email="card-buyer@example.com")
    event_id, order_id = paid_order(api, organizer, buyer=buyer)
    Event(id=event_id).update(actions=[Event.cancellable_until.set(utcnow() + timedelta(days=5))])
    session = open_session(api, buyer["email"])
    first = Order.get(order_id).ticket_ids[0]

    response = api.delete(f"/my-tickets/{first}", as_=session)

    assert response.status_code == 204
    order = Order.get(order_id)
    assert (order.status, order.refunded_minor) == ("partially_refunded", 5000)
    assert [r.source for r in order.refunds] == ["buyer"]
    assert stripe_refunds(order_id) == [5000]
    assert counts(event_id, event_id) == (1, 0)
    assert any("You cancelled the ticket" in m.body for m in sent_emails())


# --- Stripe's dashboard refunds and disputes ---------------------------------------------------


def test_a_refund_made_in_stripes_dashboard_is_recorded_once(api, client, organizer):
    _, order_id = paid_order(api, organizer)
    intent = Order.get(order_id).paid_intent_id
    made = stripe_api.refund(intent_id=intent, amount_minor=2500, refund_id="dashboard")
    charge_id = stripe_get(f"payment_intents/{intent}")["latest_charge"]["id"]
    charge = {"id": charge_id, "object": "charge", "payment_intent": intent, "amount": 10000,
              "amount_refunded": 2500, "refunds": {"data": [
                  {"id": made.id, "amount": 2500, "status": "succeeded"}]}}  # fmt: skip
    payload = event("charge.refunded", charge)

    first = post_event(client, payload)
    again = post_event(client, payload)

    assert first.json_body["outcome"] == "recorded"
    assert again.json_body["outcome"] == "already"
    order = Order.get(order_id)
    assert (order.status, order.refunded_minor) == ("partially_refunded", 2500)
    assert [(r.source, r.provider_refund_id) for r in order.refunds] == [("provider", made.id)]
    # The tickets stay valid: the dashboard moved money only.
    assert not any(Ticket.get(t).is_cancelled for t in order.ticket_ids)


def test_our_own_refunds_are_not_recorded_twice_when_stripe_reports_them(api, client, organizer):
    _, order_id = paid_order(api, organizer)
    made = refund(api, order_id, {"amount": "10"}, organizer).json_body["refund"]
    entry = Order.get(order_id).refunds[0]
    intent = Order.get(order_id).paid_intent_id
    charge = {"id": "ch_x", "payment_intent": intent, "refunds": {"data": [
        {"id": entry.provider_refund_id, "amount": 1000, "status": "succeeded"}]}}  # fmt: skip

    response = post_event(client, event("charge.refunded", charge))

    assert response.json_body["outcome"] == "already"
    assert [r.id for r in Order.get(order_id).refunds] == [made["id"]]


def test_a_dispute_is_recorded_on_the_order_and_announced(api, client, organizer):
    _, order_id = paid_order(api, organizer)
    intent = Order.get(order_id).paid_intent_id
    dispute = {"id": "dp_1", "object": "dispute", "payment_intent": intent, "amount": 10000,
               "reason": "fraudulent", "status": "needs_response"}  # fmt: skip

    response = post_event(client, event("charge.dispute.created", dispute))

    assert response.json_body["outcome"] == "recorded"
    order = api.get(f"/orders/{order_id}", as_=organizer).json_body["order"]
    assert order["dispute"]["reason"] == "fraudulent"
    assert order["dispute"]["amount"] == "100.00"
    entries = api.get("/audit-log", as_=admin_user()).json_body["entries"]
    assert "order.disputed" in [e["action"] for e in entries]


def test_a_charge_of_no_order_of_ours_is_a_404(client, tables):
    unknown = post_event(client, event("charge.dispute.created", {"id": "dp", "amount": 1}))

    assert unknown.status_code == 404


def test_a_buyer_still_cancels_a_ticket_whose_money_already_went_back(api, organizer):
    buyer = buyer_body(email="refunded-buyer@example.com")
    event_id, order_id = paid_order(api, organizer, buyer=buyer)
    Event(id=event_id).update(actions=[Event.cancellable_until.set(utcnow() + timedelta(days=5))])
    assert refund(api, order_id, {"amount": "100"}, organizer).status_code == 201
    session = open_session(api, buyer["email"])
    first = Order.get(order_id).ticket_ids[0]

    assert api.delete(f"/my-tickets/{first}", as_=session).status_code == 204

    order = Order.get(order_id)
    assert (order.status, order.refunded_minor) == ("refunded", 10000)
    assert [r.amount_minor for r in order.refunds] == [10000, 0]
    assert Ticket.get(first).is_cancelled
    assert stripe_refunds(order_id) == [10000]
    assert counts(event_id, event_id) == (1, 0)


def test_a_dashboard_refund_of_a_payment_that_paid_nothing_is_ignored(api, client, organizer):
    _, order_id = paid_order(api, organizer)
    second = stripe_api.create_intent(
        order_id=order_id, event_id="x", amount_minor=10000, currency_code="GBP",
        idempotency_key="second",
    )  # fmt: skip
    charge = {"id": "ch_2", "payment_intent": second.id, "refunds": {"data": [
        {"id": "re_2", "amount": 10000, "status": "succeeded"}]}}  # fmt: skip

    response = post_event(client, event("charge.refunded", charge))

    assert (response.status_code, response.json_body["outcome"]) == (200, "ignored")
    assert Order.get(order_id).refunds is None
