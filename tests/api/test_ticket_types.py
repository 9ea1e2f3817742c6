"""Ticket types: price categories sharing the event's capacity, per-type allocations."""

from datetime import timedelta

import pytest

from chalicelib.db.allocations import Allocation, type_shares
from chalicelib.db.base import utcnow
from chalicelib.db.ticket_types import TicketType
from chalicelib.db.tickets import Ticket
from tests.conftest import admin_user, buyer_body, make_event, make_user

TYPE_KEYS = {
    "id", "name", "description", "price", "currency_code", "quantity", "sold", "held",
    "available", "available_from", "available_until", "max_per_order", "on_sale",
}  # fmt: skip


@pytest.fixture
def organizer(tables):
    return make_user("organizer", name="Venue")


def types_url(event_id):
    return f"/events/{event_id}/ticket-types"


def add_type(api, event_id, organizer, **body):
    response = api.post(types_url(event_id), {"name": "VIP", "price": "120", **body},
                        as_=organizer)  # fmt: skip
    assert response.status_code == 201, response.json_body
    return response.json_body["ticket_type"]


def listed(api, event_id, as_=None):
    return api.get(types_url(event_id), as_=as_).json_body["ticket_types"]


def order(api, event_id, items, *, as_=None, buyer=None):
    body = {"event_id": event_id, "items": items, "buyer": buyer or buyer_body()}
    return api.post("/orders", body, as_=as_)


def test_a_new_event_sells_one_general_admission_type_at_its_price(api, organizer):
    event_id = make_event(organizer, number_of_tickets=100, price="50")

    (only,) = listed(api, event_id)

    assert set(only) == TYPE_KEYS
    assert (only["name"], only["price"], only["currency_code"]) == ("General admission", "50.00",
                                                                  "GBP")  # fmt: skip
    assert (only["quantity"], only["sold"], only["held"], only["available"]) == (None, 0, 0, 100)
    assert (only["max_per_order"], only["on_sale"]) == (10, True)


def test_types_share_the_capacity_and_each_keeps_its_own_quantity(api, organizer):
    event_id = make_event(organizer, number_of_tickets=12)
    vip = add_type(api, event_id, organizer, quantity=5)

    assert order(api, event_id, [{"ticket_type_id": vip["id"], "quantity": 5}]).status_code == 201
    refused = order(api, event_id, [{"ticket_type_id": vip["id"], "quantity": 1}])
    assert refused.status_code == 409
    assert refused.json_body["error"] == "Event sold out."
    assert refused.json_body["details"] == {vip["id"]: "0 available"}

    counts = {t["name"]: (t["sold"], t["available"]) for t in listed(api, event_id)}
    assert counts == {"General admission": (0, 7), "VIP": (5, 0)}
    event = api.get(f"/events/{event_id}").json_body["event"]
    assert (event["sold"], event["available"]) == (5, 7)


def test_names_are_unique_within_an_event_whatever_the_case(api, organizer):
    event_id = make_event(organizer)
    add_type(api, event_id, organizer)

    again = api.post(types_url(event_id), {"name": "vip", "price": "1"}, as_=organizer)

    assert again.status_code == 409
    assert again.json_body["code"] == "duplicate_ticket_type"
    assert len(listed(api, event_id, as_=organizer)) == 2
    other_event = make_event(organizer)
    assert api.post(types_url(other_event), {"name": "VIP", "price": "1"},
                    as_=organizer).status_code == 201  # fmt: skip


def test_only_the_events_organizer_and_admins_manage_its_types(api, organizer):
    event_id = make_event(organizer)
    body = {"name": "Student", "price": "5"}

    for caller in (make_user("organizer"), make_user("reseller")):
        assert api.post(types_url(event_id), body, as_=caller).status_code == 403
    assert api.post(types_url(event_id), body).status_code == 401
    assert api.post(types_url(event_id), body, as_=admin_user()).status_code == 201
    assert len(listed(api, event_id)) == 2


def test_buyers_see_types_on_sale_the_owner_sees_all(api, organizer):
    event_id = make_event(organizer)
    add_type(api, event_id, organizer, on_sale=False)
    ended = (utcnow() - timedelta(days=1)).isoformat()
    add_type(api, event_id, organizer, name="Early bird", available_until=ended)
    later = (utcnow() + timedelta(days=1)).isoformat()
    add_type(api, event_id, organizer, name="Late", available_from=later)

    assert [t["name"] for t in listed(api, event_id)] == ["General admission", "Late"]
    assert len(listed(api, event_id, as_=organizer)) == 4
    assert len(listed(api, event_id, as_=make_user("organizer"))) == 2


def test_a_type_off_sale_or_outside_its_window_cannot_be_ordered(api, organizer):
    event_id = make_event(organizer)
    off = add_type(api, event_id, organizer, on_sale=False)
    later = (utcnow() + timedelta(days=1)).isoformat()
    soon = add_type(api, event_id, organizer, name="Later", available_from=later)

    for type_id in (off["id"], soon["id"]):
        refused = order(api, event_id, [{"ticket_type_id": type_id, "quantity": 1}])
        assert refused.status_code == 409
        assert refused.json_body["code"] == "not_on_sale"
    assert all(t["sold"] == t["held"] == 0 for t in listed(api, event_id, as_=organizer))


def test_max_per_order_is_enforced(api, organizer):
    event_id = make_event(organizer)
    vip = add_type(api, event_id, organizer, max_per_order=2)

    refused = order(api, event_id, [{"ticket_type_id": vip["id"], "quantity": 3}])

    assert refused.status_code == 400
    assert vip["id"] in refused.json_body["details"]
    assert order(api, event_id, [{"ticket_type_id": vip["id"], "quantity": 2}]).status_code == 201


def test_a_second_type_makes_the_type_required(api, organizer):
    event_id = make_event(organizer)
    assert order(api, event_id, [{"quantity": 1}]).status_code == 201
    add_type(api, event_id, organizer)

    for refused in (
        order(api, event_id, [{"quantity": 1}]),
        api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer_body()}),
    ):
        assert refused.status_code == 400
        assert "ticket_type_id" in refused.json_body["details"]
    assert sum(t["sold"] for t in listed(api, event_id)) == 1


def test_quantity_cannot_go_below_sold_plus_held(api, organizer):
    event_id = make_event(organizer, number_of_tickets=50)
    vip = add_type(api, event_id, organizer, quantity=10)
    order(api, event_id, [{"ticket_type_id": vip["id"], "quantity": 4}])
    url = f"{types_url(event_id)}/{vip['id']}"

    refused = api.put(url, {"quantity": 3}, as_=organizer)
    lowered = api.put(url, {"quantity": 4}, as_=organizer)

    assert refused.status_code == 409
    assert refused.json_body["code"] == "below_sold_and_held"
    assert lowered.status_code == 200
    assert (lowered.json_body["ticket_type"]["quantity"],
            lowered.json_body["ticket_type"]["available"]) == (4, 0)  # fmt: skip
    unlimited = api.put(url, {"quantity": None}, as_=organizer).json_body["ticket_type"]
    assert (unlimited["quantity"], unlimited["available"]) == (None, 46)


def test_a_price_change_applies_to_later_orders_and_the_event_shows_the_lowest(api, organizer):
    event_id = make_event(organizer, price="50")
    vip = add_type(api, event_id, organizer, price="120")
    first = order(api, event_id, [{"ticket_type_id": vip["id"], "quantity": 1}]).json_body
    api.put(f"{types_url(event_id)}/{vip['id']}", {"price": "30"}, as_=organizer)

    second = order(api, event_id, [{"ticket_type_id": vip["id"], "quantity": 1}]).json_body

    assert first["order"]["total"] == "120.00"
    assert second["order"]["total"] == "30.00"
    assert Ticket.get(first["order"]["tickets"][0]["id"]).price_minor == 12000
    assert api.get(f"/events/{event_id}").json_body["event"]["price"] == "30.00"


def test_the_events_price_sets_its_only_types_price_and_is_refused_with_several(api, organizer):
    event_id = make_event(organizer, price="50")
    url = f"/events/{event_id}"

    assert api.put(url, {"price": "40"}, as_=organizer).status_code == 200
    assert listed(api, event_id)[0]["price"] == "40.00"
    add_type(api, event_id, organizer)
    refused = api.put(url, {"price": "45"}, as_=organizer)
    assert refused.status_code == 409
    assert refused.json_body["code"] == "price_per_ticket_type"
    # A new currency keeps each type's price figure.
    assert api.put(url, {"currency_code": "EUR"}, as_=organizer).status_code == 200
    assert {(t["price"], t["currency_code"]) for t in listed(api, event_id)} == {
        ("40.00", "EUR"), ("120.00", "EUR")}  # fmt: skip


def test_a_type_with_sales_or_the_last_one_cannot_be_deleted(api, organizer):
    event_id = make_event(organizer)
    vip = add_type(api, event_id, organizer)
    spare = add_type(api, event_id, organizer, name="Spare")
    order(api, event_id, [{"ticket_type_id": vip["id"], "quantity": 1}])

    in_use = api.delete(f"{types_url(event_id)}/{vip['id']}", as_=organizer)
    gone = api.delete(f"{types_url(event_id)}/{spare['id']}", as_=organizer)

    assert in_use.status_code == 409
    assert in_use.json_body["code"] == "ticket_type_in_use"
    assert gone.status_code == 204
    assert TicketType.count(event_id) == 2
    add_type(api, event_id, organizer, name="Spare")  # its name is free again


def test_an_event_keeps_at_least_one_type(api, organizer):
    event_id = make_event(organizer)

    refused = api.delete(f"{types_url(event_id)}/{event_id}", as_=organizer)

    assert refused.status_code == 409
    assert refused.json_body["code"] == "last_ticket_type"
    assert len(listed(api, event_id)) == 1


def test_bad_type_bodies_are_refused_and_change_nothing(api, organizer):
    event_id = make_event(organizer)
    for body in (
        {"name": "X", "price": "-1"},
        {"name": "X", "price": "1.234"},
        {"name": "", "price": "1"},
        {"name": "X\nY", "price": "1"},
        {"name": "X", "price": "1", "quantity": -1},
        {"name": "X", "price": "1", "max_per_order": 51},
        {"name": "X", "price": "1", "available_from": "2031-01-02T00:00:00Z",
         "available_until": "2031-01-01T00:00:00Z"},
        {"name": "X", "price": "1", "currency_code": "EUR"},
    ):  # fmt: skip
        response = api.post(types_url(event_id), body, as_=organizer)
        assert response.status_code == 400, body
    assert len(listed(api, event_id, as_=organizer)) == 1


def test_type_changes_are_in_the_events_audit_log(api, organizer):
    event_id = make_event(organizer)
    vip = add_type(api, event_id, organizer)
    api.put(f"{types_url(event_id)}/{vip['id']}", {"on_sale": False}, as_=organizer)
    api.delete(f"{types_url(event_id)}/{vip['id']}", as_=organizer)

    entries = api.get(f"/events/{event_id}/audit-log", as_=organizer).json_body["entries"]
    actions = [e["action"] for e in entries if e["target_type"] == "ticket_type"]
    assert actions == ["ticket_type.deleted", "ticket_type.updated", "ticket_type.created"]


def test_allocations_are_per_type_and_a_reseller_sells_only_its_share(api, organizer):
    reseller = make_user("reseller", name="Shop")
    event_id = make_event(organizer, number_of_tickets=100)
    vip = add_type(api, event_id, organizer, quantity=10)
    url = f"/events/{event_id}/allocations/{reseller.id}"

    assert api.put(url, {"number_of_tickets": 5}, as_=organizer).status_code == 400
    assert api.put(url, {"number_of_tickets": 5, "ticket_type_id": vip["id"]},
                   as_=organizer).status_code == 200  # fmt: skip
    assert api.put(url, {"number_of_tickets": 20, "ticket_type_id": event_id},
                   as_=organizer).status_code == 200  # fmt: skip

    rows = api.get(f"/events/{event_id}/allocations", as_=organizer).json_body["allocations"]
    assert sorted((r["ticket_type_id"], r["number_of_tickets"]) for r in rows) == sorted(
        [(vip["id"], 5), (event_id, 20)])  # fmt: skip
    pool = Allocation.get(event_id, reseller.id)
    assert (pool.number_of_tickets, set(type_shares(pool))) == (25, {vip["id"], event_id})
    both = [{"ticket_type_id": vip["id"], "quantity": 5},
            {"ticket_type_id": event_id, "quantity": 2}]  # fmt: skip
    sold = order(api, event_id, both, as_=reseller)
    assert sold.status_code == 201, sold.json_body
    more = order(api, event_id, [{"ticket_type_id": vip["id"], "quantity": 1}], as_=reseller)
    assert more.status_code == 409
    mine = api.get("/allocations", as_=reseller).json_body["allocations"]
    assert sorted((r["ticket_type_name"], r["sold"], r["available"]) for r in mine) == [
        ("General admission", 2, 18), ("VIP", 5, 0)]  # fmt: skip
    # Its share of a type cannot go below what it sold; removing returns the rest.
    assert api.put(url, {"number_of_tickets": 1, "ticket_type_id": event_id},
                   as_=organizer).status_code == 409  # fmt: skip
    removed = api.delete(f"{url}?ticket_type_id={event_id}", as_=organizer)
    assert removed.status_code == 204
    pool = Allocation.get(event_id, reseller.id)
    assert type_shares(pool)[event_id] == {"share": 2, "sold": 2, "held": 0, "available": 0,
                                           "gross": 10000}  # fmt: skip


def test_a_type_a_reseller_holds_cannot_be_deleted(api, organizer):
    reseller = make_user("reseller")
    event_id = make_event(organizer)
    vip = add_type(api, event_id, organizer)
    api.put(f"/events/{event_id}/allocations/{reseller.id}",
            {"number_of_tickets": 2, "ticket_type_id": vip["id"]}, as_=organizer)  # fmt: skip

    refused = api.delete(f"{types_url(event_id)}/{vip['id']}", as_=organizer)

    assert refused.status_code == 409
    assert refused.json_body["code"] == "ticket_type_allocated"
