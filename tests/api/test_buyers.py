"""Buyers administration: /buyers and /buyers/{id}."""

import pytest

from chalicelib.db.buyers import Buyer
from chalicelib.db.uniques import UniqueClaim
from tests.conftest import admin_user, buyer_body, make_event, make_user


def book_for(api, email, quantity=1, event_id=None):
    response = api.post(
        "/sold-tickets",
        {
            "event_id": event_id or make_event(),
            "quantity": quantity,
            "buyer": buyer_body(email=email),
        },
    )
    assert response.status_code == 201
    return response.json_body["tickets"]


def test_admin_lists_buyers_page_by_page(api):
    for i in range(3):
        book_for(api, f"b{i}@example.com")

    first = api.get("/buyers?limit=2", as_=admin_user())
    second = api.get(
        f"/buyers?limit=2&next_token={first.json_body['next_token']}", as_=admin_user()
    )

    emails = [b["email"] for b in first.json_body["buyers"] + second.json_body["buyers"]]
    assert sorted(emails) == ["b0@example.com", "b1@example.com", "b2@example.com"]


def test_a_buyer_shows_the_tickets_it_holds(api):
    tickets = book_for(api, "holder@example.com", quantity=2)
    buyer_id = tickets[0]["buyer_id"]

    response = api.get(f"/buyers/{buyer_id}", as_=admin_user())

    assert response.status_code == 200
    buyer = response.json_body["buyer"]
    assert (buyer["email"], buyer["name"], buyer["phone"]) == (
        "holder@example.com",
        "Bea Buyer",
        "+442079460958",
    )
    assert sorted(buyer["tickets"]) == sorted(t["id"] for t in tickets)


def test_admin_corrects_a_buyers_details_and_email(api):
    buyer_id = book_for(api, "typo@example.con")[0]["buyer_id"]

    response = api.put(
        f"/buyers/{buyer_id}",
        {"email": "fixed@example.com", "name": "Bea B.", "phone": "+14155552671"},
        as_=admin_user(),
    )

    assert response.status_code == 200
    assert (response.json_body["buyer"]["email"], response.json_body["buyer"]["phone"]) == (
        "fixed@example.com",
        "+14155552671",
    )
    assert UniqueClaim.get("buyer-email:fixed@example.com").owner_id == buyer_id
    assert UniqueClaim.count("buyer-email:typo@example.con") == 0
    # The next booking with the corrected email finds the same buyer.
    assert book_for(api, "fixed@example.com")[0]["buyer_id"] == buyer_id


def test_a_buyer_email_already_used_by_another_buyer_is_a_409(api):
    first = book_for(api, "one@example.com")[0]["buyer_id"]
    book_for(api, "two@example.com")

    response = api.put(f"/buyers/{first}", {"email": "two@example.com"}, as_=admin_user())

    assert response.status_code == 409
    assert Buyer.get(first).email == "one@example.com"


@pytest.mark.parametrize("body", [{}, {"phone": "12345"}, {"email": "x"}, {"name": ""}, {"age": 3}])
def test_invalid_buyer_changes_are_a_400(api, body):
    buyer_id = book_for(api, "stay@example.com")[0]["buyer_id"]

    response = api.put(f"/buyers/{buyer_id}", body, as_=admin_user())

    assert response.status_code == 400
    assert Buyer.get(buyer_id).email == "stay@example.com"


def test_a_buyer_holding_tickets_cannot_be_deleted(api):
    buyer_id = book_for(api, "keep@example.com")[0]["buyer_id"]

    response = api.delete(f"/buyers/{buyer_id}", as_=admin_user())

    assert response.status_code == 409
    assert response.json_body["error"] == "Cannot delete buyer when associated with ticket."
    assert Buyer.count(buyer_id) == 1


def test_a_buyer_without_tickets_is_deleted_with_its_email_claim(api):
    ticket = book_for(api, "gone@example.com")[0]
    assert api.delete(f"/sold-tickets/{ticket['id']}", as_=admin_user()).status_code == 204

    response = api.delete(f"/buyers/{ticket['buyer_id']}", as_=admin_user())

    assert response.status_code == 204
    assert Buyer.count(ticket["buyer_id"]) == 0
    assert UniqueClaim.count("buyer-email:gone@example.com") == 0


def test_unknown_buyer_is_a_404(api):
    admin = admin_user()

    assert api.get("/buyers/nope", as_=admin).status_code == 404
    assert api.put("/buyers/nope", {"name": "x"}, as_=admin).status_code == 404
    assert api.delete("/buyers/nope", as_=admin).status_code == 404


def test_only_admins_manage_buyers(api):
    buyer_id = book_for(api, "private@example.com")[0]["buyer_id"]

    for user in (make_user("organizer"), make_user("reseller")):
        assert api.get("/buyers", as_=user).status_code == 403
        assert api.get(f"/buyers/{buyer_id}", as_=user).status_code == 403
        assert api.put(f"/buyers/{buyer_id}", {"name": "x"}, as_=user).status_code == 403
        assert api.delete(f"/buyers/{buyer_id}", as_=user).status_code == 403
    assert api.get("/buyers").status_code == 401
