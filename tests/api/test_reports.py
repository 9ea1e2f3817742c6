"""Reports: counters kept by the sales' own transactions, checked against a recount of what is
stored (orders, tickets, refunds) after random runs."""

import random
from datetime import timedelta

import pytest

from bench.meter import metered
from chalicelib.auth.principal import Principal
from chalicelib.auth.tokens import issue_checkout_token
from chalicelib.db.base import utcnow
from chalicelib.db.orders import Order
from chalicelib.db.ticket_types import TicketType
from chalicelib.db.tickets import Ticket
from chalicelib.db.waiting_list import WaitingEntry
from chalicelib.money import to_minor
from chalicelib.services.door import check_ins
from chalicelib.services.sales import allocations, orders
from tests.api.test_orders import add_vip, new_event, place
from tests.conftest import admin_user, buyer_body, drain_stream, make_user
from tests.stripe_fake import card_token

FIGURES = {"sold", "held", "checked_in", "gross", "refunded", "net"}


@pytest.fixture
def organizer(tables):
    return make_user("organizer", name="Venue")


def report(api, event_id, caller):
    response = api.get(f"/events/{event_id}/report", as_=caller)
    assert response.status_code == 200, response.json_body
    return response.json_body["report"]


def give_share(organizer, event_id, reseller, type_id, share):
    actor = Principal(user_id=organizer.id, role="organizer")
    allocations.set_allocation(actor=actor, event_id=event_id, reseller_id=reseller.id,
                               number_of_tickets=share, ticket_type_id=type_id)  # fmt: skip
    allocations.set_on_sale(actor=Principal(user_id=reseller.id, role="reseller"),
                            event_id=event_id, on_sale=True)  # fmt: skip


def check_in(organizer, event_id, ticket):
    check_ins.check_in(actor=Principal(user_id=organizer.id, role="organizer"),
                       event_id=event_id, code=ticket["code"])  # fmt: skip


def recount(event_id):
    """The report's figures computed from the stored orders and tickets alone."""
    per_type, per_seller = {}, {}

    def add(table, key, **figures):
        entry = table.setdefault(key, dict.fromkeys(("sold", "held", "checked_in", "gross",
                                                     "refunded", "online"), 0))  # fmt: skip
        for name, value in figures.items():
            entry[name] += value

    for ticket in Ticket.by_event.query(event_id):
        if ticket.cancelled_at is None:
            checked = int(ticket.checked_in_at is not None)
            add(per_type, ticket.ticket_type_id, sold=1, checked_in=checked)
            add(per_seller, ticket.seller_id, sold=1, checked_in=checked)
    for order in Order.by_event.query(event_id):
        for line in order.items:
            if order.status == "reserved":
                add(per_type, line.ticket_type_id, held=int(line.quantity))
                add(per_seller, order.seller_id, held=int(line.quantity))
            if order.paid_at is not None:
                paid = line.paid_unit_minor * int(line.quantity)
                back = int(line.refunded_minor or 0)
                online = paid if order.paid_intent_id else 0
                add(per_type, line.ticket_type_id, gross=paid, refunded=back)
                add(per_seller, order.seller_id, gross=paid, refunded=back, online=online)
        if order.paid_at is not None:  # each refund's money is on its lines
            refunds = sum(r.amount_minor for r in order.refunds or [])
            assert refunds == int(order.refunded_minor or 0)
            assert refunds == sum(int(line.refunded_minor or 0) for line in order.items)
    return per_type, per_seller


def as_minor(figures, currency="GBP"):
    out = {name: figures[name] for name in ("sold", "held", "checked_in")}
    for name in ("gross", "refunded"):
        out[name] = to_minor(figures[name], currency)
    assert to_minor(figures["net"], currency) == out["gross"] - out["refunded"]
    return out


def test_the_report_counts_sales_holds_check_ins_and_money_per_type_and_seller(api, organizer):
    event_id = new_event(api, organizer, capacity=30, price="50")
    vip = add_vip(api, event_id, organizer)  # 120
    reseller = make_user("reseller")
    give_share(organizer, event_id, reseller, vip, 5)
    both = [{"ticket_type_id": event_id, "quantity": 2}, {"ticket_type_id": vip, "quantity": 1}]
    sale = place(api, event_id, both).json_body["order"]
    resold = place(api, event_id, [{"ticket_type_id": vip, "quantity": 2}],
                   as_=reseller).json_body["order"]  # fmt: skip
    check_in(organizer, event_id, sale["tickets"][0])
    api.post(f"/orders/{sale['id']}/refunds", {"amount": "10"}, as_=organizer)

    got = report(api, event_id, organizer)

    assert got["currency_code"] == "GBP"
    by_type = {t["name"]: t for t in got["ticket_types"]}
    assert set(by_type["VIP"]) == FIGURES | {"ticket_type_id", "name", "waiting"}
    assert by_type["General admission"] == {
        "ticket_type_id": event_id, "name": "General admission", "sold": 2, "held": 0,
        "checked_in": 1, "gross": "100.00", "refunded": "10.00", "net": "90.00", "waiting": 0,
    }  # fmt: skip
    assert (by_type["VIP"]["sold"], by_type["VIP"]["gross"]) == (3, "360.00")
    sellers = {s["role"]: s for s in got["sellers"]}
    assert sellers["reseller"]["gross"] == "240.00"
    assert sellers["reseller"]["collected_by_seller"] == "240.00"
    assert sellers["reseller"]["online"] == "0.00"
    assert got["totals"] == {"sold": 5, "held": 0, "checked_in": 1, "gross": "460.00",
                             "refunded": "10.00", "net": "450.00"}  # fmt: skip
    assert resold["status"] == "paid"


def test_cancelling_a_ticket_of_an_order_paid_offline_records_a_refund_of_its_price(api, organizer):
    event_id = new_event(api, organizer, price="30")
    sale = place(api, event_id, [{"quantity": 2}]).json_body["order"]

    cancelled = api.delete(f"/sold-tickets/{sale['tickets'][0]['id']}", as_=admin_user())

    assert cancelled.status_code == 204
    refunds = api.get(f"/orders/{sale['id']}/refunds", as_=organizer).json_body["refunds"]
    assert [(r["amount"], r["status"]) for r in refunds] == [("30.00", "succeeded")]
    got = report(api, event_id, organizer)["totals"]
    assert (got["sold"], got["gross"], got["refunded"], got["net"]) == (1, "60.00", "30.00",
                                                                         "30.00")  # fmt: skip
    assert Order.get(sale["id"]).status == "partially_refunded"


def test_only_the_organizer_and_admins_read_an_events_report(api, organizer):
    event_id = new_event(api, organizer)

    assert api.get(f"/events/{event_id}/report").status_code == 401
    for stranger in (make_user("organizer"), make_user("reseller")):
        assert api.get(f"/events/{event_id}/report", as_=stranger).status_code == 403
    assert api.get(f"/events/{event_id}/report", as_=admin_user()).status_code == 200
    assert api.get("/events/nope/report", as_=admin_user()).status_code == 404


def test_the_report_costs_three_calls_whatever_was_sold(api, organizer):
    event_id = new_event(api, organizer, capacity=200)
    add_vip(api, event_id, organizer)
    costs = []
    for _ in range(2):
        with metered() as meter:
            report(api, event_id, organizer)
        costs.append(meter.cost.calls)
        for _ in range(10):
            place(api, event_id, [{"ticket_type_id": event_id, "quantity": 3}])

    assert costs == [3, 3]


def test_a_sellers_report_shows_its_events_and_types_to_whom_it_concerns(api, organizer):
    event_id = new_event(api, organizer, price="20")
    vip = add_vip(api, event_id, organizer)
    reseller = make_user("reseller")
    give_share(organizer, event_id, reseller, vip, 4)
    give_share(organizer, event_id, reseller, event_id, 6)
    place(api, event_id, [{"ticket_type_id": vip, "quantity": 2}], as_=reseller)
    place(api, event_id, [{"ticket_type_id": event_id, "quantity": 1}], as_=reseller)
    other_org = make_user("organizer")
    elsewhere = new_event(api, other_org)
    give_share(other_org, elsewhere, reseller, elsewhere, 3)

    own = api.get(f"/sellers/{reseller.id}/report", as_=reseller).json_body
    seen_by_organizer = api.get(f"/sellers/{reseller.id}/report", as_=organizer).json_body

    assert {e["event_id"] for e in own["events"]} == {event_id, elsewhere}
    [line] = seen_by_organizer["events"]
    assert (line["event_id"], line["sold"], line["gross"]) == (event_id, 3, "260.00")
    assert line["collected_by_seller"] == "260.00"
    types = {t["name"]: (t["share"], t["sold"], t["gross"]) for t in line["ticket_types"]}
    assert types == {"VIP": (4, 2, "240.00"), "General admission": (6, 1, "20.00")}
    assert api.get(f"/sellers/{reseller.id}/report", as_=make_user("reseller")).status_code == 403
    assert api.get(f"/sellers/{reseller.id}/report").status_code == 401


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_the_report_equals_a_recount_after_a_random_run(api, organizer, seed):
    rng = random.Random(seed)
    event_id = new_event(api, organizer, capacity=60, price="15", payment="online")
    vip = add_vip(api, event_id, organizer, quantity=6)  # sells out: people wait for it
    reseller = make_user("reseller")
    give_share(organizer, event_id, reseller, vip, 2)
    code = {"code": "RAND", "discount": {"type": "percent", "value": "33"}}
    api.post(f"/events/{event_id}/vouchers", code, as_=organizer)
    admin = admin_user()
    paid, held = [], []
    # One order paid by card and checked in, whatever the dice say: every figure is exercised.
    one = [{"ticket_type_id": event_id, "quantity": 1}]
    first = api.post("/orders", {"event_id": event_id, "items": one, "buyer": buyer_body()})
    first = first.json_body
    card = api.post(f"/orders/{first['order']['id']}/pay", {"card_token": card_token()},
                    as_=first["order_token"])  # fmt: skip
    check_in(organizer, event_id, card.json_body["order"]["tickets"][0])
    for _ in range(60):
        move = rng.choice(["sell", "sell", "hold", "hold", "pay", "resell", "end", "refund",
                           "refund_tickets", "cancel_ticket", "check_in", "wait", "wait",
                           "offers", "pay_offer", "pay_offer"])  # fmt: skip
        type_id = rng.choice([event_id, vip])
        line = [{"ticket_type_id": type_id, "quantity": rng.randint(1, 3)}]
        body = {"event_id": event_id, "items": line, "buyer": buyer_body()}
        if rng.random() < 0.3:
            body["voucher"] = "RAND"
        if move == "sell":  # the organizer's own sale: paid at once
            answer = api.post("/orders", body, as_=organizer)
            if answer.status_code == 201:
                paid.append(answer.json_body["order"])
        elif move == "resell":
            one_vip = [{"ticket_type_id": vip, "quantity": 1}]
            answer = api.post("/orders", {**body, "items": one_vip}, as_=reseller)
            if answer.status_code == 201:
                paid.append(answer.json_body["order"])
        elif move == "hold":
            answer = api.post("/orders", body)
            if answer.status_code == 201:
                held.append(answer.json_body)
        elif move == "pay" and held:  # by card, through the (fake) Stripe
            entry = held.pop(rng.randrange(len(held)))
            answer = api.post(f"/orders/{entry['order']['id']}/pay",
                              {"card_token": card_token()}, as_=entry["order_token"])  # fmt: skip
            assert answer.status_code == 200, answer.json_body
            if answer.json_body.get("order", {}).get("status") == "paid":
                paid.append(answer.json_body["order"])
        elif move == "end" and held:
            entry = held.pop(rng.randrange(len(held)))
            api.post(f"/orders/{entry['order']['id']}/cancel", as_=entry["order_token"])
        elif move == "refund" and paid:
            order = rng.choice(paid)
            amount = rng.choice([None, "1.01", "4"])
            api.post(f"/orders/{order['id']}/refunds", {"amount": amount} if amount else {},
                     as_=organizer)  # fmt: skip
        elif move == "refund_tickets" and paid:
            order = rng.choice(paid)
            ticket = rng.choice(order["tickets"])
            api.post(f"/orders/{order['id']}/refunds", {"ticket_ids": [ticket["id"]]},
                     as_=organizer)  # fmt: skip
        elif move == "cancel_ticket" and paid:
            ticket = rng.choice(rng.choice(paid)["tickets"])
            api.delete(f"/sold-tickets/{ticket['id']}", as_=admin)
        elif move == "wait":  # accepted only while VIP cannot be ordered
            join = {"ticket_type_id": vip, "quantity": rng.choice([1, 1, 2]),
                    "buyer": buyer_body()}  # fmt: skip
            api.post(f"/events/{event_id}/waiting-list", join)
        elif move == "offers":  # the stream's consumer offers returned stock to the list
            drain_stream()
        elif move == "pay_offer":
            offers = [o for o in Order.by_event.query(event_id)
                      if o.waiting_entry_id and o.status == "reserved"]  # fmt: skip
            if offers:
                offer = rng.choice(offers)
                token = issue_checkout_token(order_id=offer.id, expires_at=offer.expires_at)
                answer = api.post(f"/orders/{offer.id}/pay", {"card_token": card_token()},
                                  as_=token.auth_token)  # fmt: skip
                assert answer.status_code == 200, answer.json_body
                paid.append(answer.json_body["order"])
        elif move == "check_in" and paid:
            ticket = rng.choice(rng.choice(paid)["tickets"])
            stored = Ticket.get(ticket["id"])
            if stored.cancelled_at is None and stored.checked_in_at is None:
                check_in(organizer, event_id, ticket)
    # A reseller's sale refunded in part, whatever the dice said.
    resold = [o for o in paid if o["seller_id"] == reseller.id]
    if not resold:
        answer = api.post("/orders", {"event_id": event_id, "buyer": buyer_body(),
                                      "items": [{"ticket_type_id": vip, "quantity": 1}]},
                          as_=reseller)  # fmt: skip
        resold = [answer.json_body["order"]] if answer.status_code == 201 else []
    for order in resold[:1]:
        api.post(f"/orders/{order['id']}/refunds", {"amount": "0.50"}, as_=organizer)
    # Someone waits for VIP and 2 more VIP seats are made: the head of the queue is offered.
    available = api.get(f"/events/{event_id}/ticket-types").json_body["ticket_types"]
    left = next(t["available"] for t in available if t["id"] == vip)
    if left:
        assert place(api, event_id, [{"ticket_type_id": vip, "quantity": left}]).status_code == 201
    join = {"ticket_type_id": vip, "quantity": 1, "buyer": buyer_body()}
    assert api.post(f"/events/{event_id}/waiting-list", join).status_code == 202
    drain_stream()
    quantity = TicketType.get(event_id, vip, consistent_read=True).quantity
    raised = api.put(f"/events/{event_id}/ticket-types/{vip}", {"quantity": quantity + 2},
                     as_=organizer)  # fmt: skip
    assert raised.status_code == 200, raised.json_body
    drain_stream()
    offers = [o for o in Order.by_event.query(event_id) if o.waiting_entry_id]
    assert offers
    if rng.random() < 0.5:
        orders.sweep(utcnow() + timedelta(hours=1))
    drain_stream()

    got = report(api, event_id, admin)
    per_type, per_seller = recount(event_id)

    nothing = dict.fromkeys(("sold", "held", "checked_in", "gross", "refunded", "online"), 0)
    for row in got["ticket_types"]:
        expected = dict(per_type.get(row["ticket_type_id"], nothing))
        del expected["online"]
        assert as_minor(row) == expected
    for row in got["sellers"]:
        expected = dict(per_seller.get(row["seller_id"], nothing))
        assert to_minor(row["online"], "GBP") == expected.pop("online")
        assert as_minor(row) == expected
    totals = as_minor(got["totals"])
    # The run did reach every kind of change (not only refused requests).
    assert min(totals["sold"], totals["checked_in"], totals["refunded"]) > 0, totals
    assert any(to_minor(row["online"], "GBP") for row in got["sellers"])
    assert totals["sold"] == sum(e["sold"] for e in per_type.values())
    assert totals["gross"] == sum(e["gross"] for e in per_type.values())
    assert totals["refunded"] == sum(e["refunded"] for e in per_type.values())
    waiting = {}
    for entry in WaitingEntry.by_event.query(event_id):
        waiting[entry.ticket_type_id] = waiting.get(entry.ticket_type_id, 0) + (
            entry.status == "waiting")  # fmt: skip
    assert {row["ticket_type_id"]: row["waiting"] for row in got["ticket_types"]} == {
        event_id: waiting.get(event_id, 0), vip: waiting.get(vip, 0)}  # fmt: skip
    reseller_row = next(row for row in got["sellers"] if row["seller_id"] == reseller.id)
    assert to_minor(reseller_row["refunded"], "GBP") > 0
