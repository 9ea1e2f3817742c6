"""Cancelled tickets stay as tombstones: listed with their status, refused for any change,
listed among the event's revoked tickets, and gone with their event; they keep no one's
personal data once their buyer is deleted, and hold up no deletion."""

from __future__ import annotations

import pytest

from chalicelib.db.allocations import Allocation
from chalicelib.db.tickets import Ticket
from tests.conftest import admin_user, buyer_body, make_event, make_user


def book(api, event_id, *, quantity=1, buyer=None, as_=None):
    answer = api.post(
        "/sold-tickets",
        {"event_id": event_id, "quantity": quantity, "buyer": buyer or buyer_body()},
        as_=as_,
    )
    assert answer.status_code == 201, answer.json_body
    return answer.json_body["tickets"]


def cancel(api, ticket_id):
    assert api.delete(f"/sold-tickets/{ticket_id}", as_=admin_user()).status_code == 204


def revoked(api, event_id, user, query=""):
    return api.get(f"/events/{event_id}/revoked-tickets{query}", as_=user)


@pytest.fixture
def event(api):
    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=10)
    return organizer, event_id


def test_the_revoked_list_holds_the_cancelled_tickets_oldest_first(api, event):
    organizer, event_id = event
    tickets = book(api, event_id, quantity=4)
    for ticket in (tickets[2], tickets[0]):
        cancel(api, ticket["id"])

    answer = revoked(api, event_id, organizer)

    assert answer.status_code == 200
    listed = answer.json_body["revoked"]
    assert [r["ticket_id"] for r in listed] == [tickets[2]["id"], tickets[0]["id"]]
    assert listed[0]["cancelled_at"] <= listed[1]["cancelled_at"]
    assert answer.json_body["next_token"] is None


def test_the_revoked_list_is_paginated(api, event):
    organizer, event_id = event
    for ticket in book(api, event_id, quantity=3):
        cancel(api, ticket["id"])

    first = revoked(api, event_id, organizer, "?limit=2").json_body
    second = revoked(api, event_id, organizer, f"?limit=2&next_token={first['next_token']}")

    seen = [r["ticket_id"] for r in first["revoked"] + second.json_body["revoked"]]
    assert len(seen) == len(set(seen)) == 3
    assert second.json_body["next_token"] is None


def test_the_revoked_list_belongs_to_the_events_organizer_and_admins(api, event):
    organizer, event_id = event
    cancel(api, book(api, event_id)[0]["id"])
    reseller = make_user("reseller")
    api.put(
        f"/events/{event_id}/allocations/{reseller.id}", {"number_of_tickets": 2}, as_=organizer
    )

    assert revoked(api, event_id, admin_user()).status_code == 200
    assert revoked(api, event_id, make_user("organizer")).status_code == 403
    assert revoked(api, event_id, reseller).status_code == 403
    assert api.get(f"/events/{event_id}/revoked-tickets").status_code == 401
    assert revoked(api, "nope", admin_user()).status_code == 404


def test_another_events_tombstones_are_not_listed(api, event):
    organizer, event_id = event
    book(api, event_id)
    cancel(api, book(api, make_event(organizer))[0]["id"])

    assert revoked(api, event_id, organizer).json_body["revoked"] == []


def test_listed_tickets_show_their_status_and_counts_exclude_the_cancelled(api, event):
    organizer, event_id = event
    kept, gone = book(api, event_id, quantity=2)
    cancel(api, gone["id"])

    listed = api.get(f"/sold-tickets?event_id={event_id}", as_=organizer).json_body["tickets"]

    assert {t["id"]: t["status"] for t in listed} == {kept["id"]: "valid", gone["id"]: "cancelled"}
    assert {t["id"]: t["cancelled_at"] is None for t in listed} == {
        kept["id"]: True,
        gone["id"]: False,
    }
    shown = api.get(f"/events/{event_id}", as_=organizer).json_body["event"]
    assert (shown["sold"], shown["available"]) == (1, 9)


def test_a_cancelled_tickets_buyer_cannot_be_changed(api, event):
    _, event_id = event
    ticket = book(api, event_id)[0]
    cancel(api, ticket["id"])

    answer = api.put(f"/sold-tickets/{ticket['id']}", {"buyer": buyer_body()}, as_=admin_user())

    assert (answer.status_code, answer.json_body["code"]) == (409, "ticket_cancelled")
    assert Ticket.get(ticket["id"]).buyer_id == ticket["buyer_id"]


def test_a_buyer_with_only_cancelled_tickets_is_deleted_and_its_tombstones_keep_no_name(api, event):
    _, event_id = event
    tickets = book(api, event_id, quantity=2)
    for ticket in tickets:
        cancel(api, ticket["id"])

    assert api.delete(f"/buyers/{tickets[0]['buyer_id']}", as_=admin_user()).status_code == 204

    for ticket in tickets:
        assert Ticket.get(ticket["id"]).holder is None


def test_a_buyer_with_one_live_ticket_among_many_cancelled_is_kept(api, event):
    _, event_id = event
    buyer = buyer_body()
    tickets = book(api, event_id, quantity=5, buyer=buyer)
    for ticket in tickets[:4]:
        cancel(api, ticket["id"])

    answer = api.delete(f"/buyers/{tickets[0]['buyer_id']}", as_=admin_user())

    assert answer.status_code == 409
    assert Ticket.get(tickets[4]["id"]).holder is not None


def test_a_seller_with_only_cancelled_sales_can_be_deleted(api, event):
    organizer, event_id = event
    reseller = make_user("reseller")
    path = f"/events/{event_id}/allocations/{reseller.id}"
    api.put(path, {"number_of_tickets": 1}, as_=organizer)
    cancel(api, book(api, event_id, as_=reseller)[0]["id"])
    assert api.delete(path, as_=organizer).status_code == 204

    assert api.delete(f"/users/{reseller.id}", as_=admin_user()).status_code == 204


def test_an_event_without_live_sales_is_deleted_with_its_tombstones(api, event):
    organizer, event_id = event
    tickets = book(api, event_id, quantity=3)
    for ticket in tickets:
        cancel(api, ticket["id"])

    assert api.delete(f"/events/{event_id}", as_=organizer).status_code == 204

    assert Ticket.count() == 0
    assert Allocation.count(event_id) == 0


def test_a_forced_delete_takes_live_tickets_and_tombstones_alike(api, event):
    _, event_id = event
    tickets = book(api, event_id, quantity=3)
    cancel(api, tickets[0]["id"])

    assert api.delete(f"/events/{event_id}?force=true", as_=admin_user()).status_code == 204

    assert Ticket.count() == 0
