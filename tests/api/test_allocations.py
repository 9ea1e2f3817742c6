"""Reseller allocations, resellers' own view, on-sale switch and offers."""

import pytest

from chalicelib.db.allocations import Allocation
from tests.conftest import admin_user, buyer_body, make_event, make_user


@pytest.fixture
def setup(api):
    organizer = make_user("organizer", name="Venue")
    resellers = [make_user("reseller", name=f"Reseller {i}") for i in range(2)]
    event_id = make_event(organizer, number_of_tickets=1000)
    return organizer, resellers, event_id


def allocate(api, event_id, reseller, n, as_):
    return api.put(
        f"/events/{event_id}/allocations/{reseller.id}", {"number_of_tickets": n}, as_=as_
    )


def book(api, event_id, seller_id=None, quantity=1, as_=None):
    body = {"event_id": event_id, "quantity": quantity, "buyer": buyer_body()}
    if seller_id:
        body["seller_id"] = seller_id
    return api.post("/sold-tickets", body, as_=as_)


def pools(event_id):
    return {
        p.seller_id: (p.number_of_tickets, p.sold, p.available) for p in Allocation.query(event_id)
    }


def test_the_original_example_250_to_each_of_two_resellers_leaves_500(api, setup):
    organizer, (r1, r2), event_id = setup

    assert allocate(api, event_id, r1, 250, organizer).status_code == 200
    assert allocate(api, event_id, r2, 250, organizer).status_code == 200

    event = api.get(f"/events/{event_id}").json_body["event"]
    assert (event["allocated"], event["available"]) == (500, 1000)
    assert pools(event_id)[organizer.id] == (500, 0, 500)
    listed = api.get(f"/events/{event_id}/allocations", as_=organizer).json_body["allocations"]
    assert sorted(
        (a["reseller_id"], a["number_of_tickets"], a["on_sale"]) for a in listed
    ) == sorted([(r1.id, 250, False), (r2.id, 250, False)])


def test_allocating_more_than_the_organizer_has_unsold_is_a_409(api, setup):
    organizer, (r1, r2), event_id = setup
    allocate(api, event_id, r1, 600, organizer)
    book(api, event_id, quantity=10)

    refused = allocate(api, event_id, r2, 391, organizer)
    allowed = allocate(api, event_id, r2, 390, organizer)

    assert refused.status_code == 409
    assert refused.json_body["error"] == "You cannot resell that many tickets."
    assert allowed.status_code == 200
    assert pools(event_id)[organizer.id] == (10, 10, 0)


def test_changing_an_allocation_moves_only_the_difference(api, setup):
    organizer, (r1, _), event_id = setup
    allocate(api, event_id, r1, 300, organizer)

    lowered = allocate(api, event_id, r1, 100, organizer)

    assert lowered.json_body["allocation"]["number_of_tickets"] == 100
    assert pools(event_id)[organizer.id] == (900, 0, 900)
    assert pools(event_id)[r1.id] == (100, 0, 100)


def test_an_allocation_cannot_go_below_what_the_reseller_sold(api, setup):
    organizer, (r1, _), event_id = setup
    allocate(api, event_id, r1, 10, organizer)
    assert book(api, event_id, r1.id, quantity=4, as_=r1).status_code == 201

    refused = allocate(api, event_id, r1, 3, organizer)
    allowed = allocate(api, event_id, r1, 4, organizer)

    assert (refused.status_code, refused.json_body["code"]) == (409, "below_sold")
    assert allowed.status_code == 200
    assert pools(event_id)[r1.id] == (4, 4, 0)


def test_the_target_must_be_a_reseller(api, setup):
    organizer, _, event_id = setup
    other_organizer = make_user("organizer")

    for target in (other_organizer.id, organizer.id, "nobody"):
        response = api.put(
            f"/events/{event_id}/allocations/{target}", {"number_of_tickets": 5}, as_=organizer
        )
        assert response.status_code == 400
        assert "reseller_id" in response.json_body["details"]
    assert pools(event_id) == {organizer.id: (1000, 0, 1000)}


@pytest.mark.parametrize(
    "body", [{}, {"number_of_tickets": -1}, {"number_of_tickets": "5"}, {"n": 5}]
)
def test_invalid_allocation_is_a_400(api, setup, body):
    organizer, (r1, _), event_id = setup

    response = api.put(f"/events/{event_id}/allocations/{r1.id}", body, as_=organizer)

    assert response.status_code == 400
    assert r1.id not in pools(event_id)


def test_removing_an_allocation_returns_unsold_tickets_and_keeps_sold_ones(api, setup):
    organizer, (r1, r2), event_id = setup
    allocate(api, event_id, r1, 50, organizer)
    allocate(api, event_id, r2, 20, organizer)
    book(api, event_id, r1.id, quantity=5, as_=r1)

    first = api.delete(f"/events/{event_id}/allocations/{r1.id}", as_=organizer)
    second = api.delete(f"/events/{event_id}/allocations/{r2.id}", as_=organizer)

    assert (first.status_code, second.status_code) == (204, 204)
    assert pools(event_id) == {organizer.id: (995, 0, 995), r1.id: (5, 5, 0)}
    assert api.delete(f"/events/{event_id}/allocations/{r2.id}", as_=organizer).status_code == 404


def test_other_organizers_and_resellers_cannot_manage_allocations(api, setup):
    organizer, (r1, _), event_id = setup
    stranger = make_user("organizer")

    assert allocate(api, event_id, r1, 5, stranger).status_code == 403
    assert allocate(api, event_id, r1, 5, r1).status_code == 403
    assert api.get(f"/events/{event_id}/allocations", as_=stranger).status_code == 403
    assert api.delete(f"/events/{event_id}/allocations/{r1.id}", as_=r1).status_code == 403
    assert allocate(api, event_id, r1, 5, admin_user()).status_code == 200
    assert allocate(api, "nope", r1, 5, organizer).status_code == 404


def test_a_reseller_sees_what_it_was_given(api, setup):
    organizer, (r1, r2), event_id = setup
    allocate(api, event_id, r1, 40, organizer)
    allocate(api, event_id, r2, 10, organizer)
    book(api, event_id, r1.id, quantity=3, as_=r1)

    response = api.get("/allocations", as_=r1)

    assert response.status_code == 200
    [mine] = response.json_body["allocations"]
    assert mine["event_id"] == event_id
    assert mine["event"]["title"] == "A music concert"
    assert (mine["event"]["price"], mine["event"]["currency_code"]) == ("50.00", "GBP")
    assert (mine["number_of_tickets"], mine["sold"], mine["available"], mine["on_sale"]) == (
        40,
        3,
        37,
        False,
    )
    assert response.json_body["next_token"] is None
    assert api.get("/allocations", as_=organizer).status_code == 403


def test_a_new_allocation_starts_off_sale_and_buyers_cannot_book_it(api, setup):
    organizer, (r1, _), event_id = setup
    allocate(api, event_id, r1, 10, organizer)

    anonymous = book(api, event_id, r1.id)
    by_reseller_itself = book(api, event_id, quantity=2, as_=r1)

    assert (anonymous.status_code, anonymous.json_body["code"]) == (409, "not_on_sale")
    assert by_reseller_itself.status_code == 201
    assert by_reseller_itself.json_body["tickets"][0]["seller_id"] == r1.id


def test_reseller_puts_tickets_on_sale_and_withdraws_them(api, setup):
    organizer, (r1, _), event_id = setup
    allocate(api, event_id, r1, 10, organizer)

    on = api.put(f"/allocations/{event_id}", {"on_sale": True}, as_=r1)
    booked = book(api, event_id, r1.id)
    off = api.put(f"/allocations/{event_id}", {"on_sale": False}, as_=r1)
    refused = book(api, event_id, r1.id)

    assert on.status_code == 200
    assert on.json_body["allocation"]["on_sale"] is True
    assert booked.status_code == 201
    assert off.json_body["allocation"]["on_sale"] is False
    assert refused.status_code == 409


def test_on_sale_needs_an_allocation_and_a_reseller(api, setup):
    organizer, (r1, _), event_id = setup

    assert api.put(f"/allocations/{event_id}", {"on_sale": True}, as_=r1).status_code == 404
    assert api.put(f"/allocations/{event_id}", {"on_sale": True}, as_=organizer).status_code == 403
    assert api.put(f"/allocations/{event_id}", {"on_sale": "yes"}, as_=r1).status_code == 400


def test_offers_list_the_organizer_and_resellers_on_sale_with_tickets_left(api, setup):
    organizer, (r1, r2), event_id = setup
    allocate(api, event_id, r1, 2, organizer)
    allocate(api, event_id, r2, 5, organizer)
    api.put(f"/allocations/{event_id}", {"on_sale": True}, as_=r1)
    book(api, event_id, r1.id, quantity=2)  # r1 now has none left

    offers = api.get(f"/events/{event_id}/offers")

    assert offers.status_code == 200
    assert offers.json_body["offers"] == [
        {
            "seller_id": organizer.id,
            "seller_name": "Venue",
            "seller_role": "organizer",
            "price": "50.00",
            "currency_code": "GBP",
            "available": 993,
        }
    ]
    api.put(f"/allocations/{event_id}", {"on_sale": True}, as_=r2)
    sellers = [o["seller_id"] for o in api.get(f"/events/{event_id}/offers").json_body["offers"]]
    assert sellers == [organizer.id, r2.id]


def test_offers_of_an_unknown_event_is_a_404(api):
    assert api.get("/events/nope/offers").status_code == 404
