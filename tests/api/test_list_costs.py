"""Every list page costs at most 3 DynamoDB calls, whatever the page size and the table size.

Counts are deterministic (no timing here): the API function's calls are counted around one
request, the authorizer's GetItem (a separate Lambda) left out. Each listing is measured with a
page of 5 and a page of 40 items, and again after the tables grew.
"""

import pytest

from bench.meter import metered
from chalicelib.auth.principal import Principal
from chalicelib.services.sales import allocations
from tests.conftest import admin_user, buyer_body, make_event, make_user

MAX_CALLS = 3


def set_share(organizer, event_id, reseller, share, *, on_sale=True):
    allocations.set_allocation(
        actor=Principal(user_id=organizer.id, role="organizer"),
        event_id=event_id,
        reseller_id=reseller.id,
        number_of_tickets=share,
    )
    if on_sale:
        allocations.set_on_sale(
            actor=Principal(user_id=reseller.id, role="reseller"), event_id=event_id, on_sale=True
        )


@pytest.fixture
def world(api):
    """Organizers, resellers holding shares of many events, sales, buyers."""
    organizer = make_user("organizer")
    resellers = [make_user("reseller") for _ in range(3)]
    event_ids = [make_event(organizer, number_of_tickets=50) for _ in range(45)]
    for event_id in event_ids:
        for reseller in resellers:
            set_share(organizer, event_id, reseller, 15)
    first = event_ids[0]
    for n in range(45):
        seller = resellers[n % 3]
        response = api.post(
            "/sold-tickets",
            {"event_id": first, "buyer": buyer_body()},
            as_=seller,
        )
        assert response.status_code == 201, response.json_body
    return {"organizer": organizer, "resellers": resellers, "events": event_ids, "api": api}


def listings(world):
    organizer, reseller, first = world["organizer"], world["resellers"][0], world["events"][0]
    admin = admin_user()
    return {
        "GET /events": ("/events", None),
        "GET /events?organizer_id": (f"/events?organizer_id={organizer.id}", None),
        "GET /events/{id}/offers": (f"/events/{first}/offers", None),
        "GET /events/{id}/allocations": (f"/events/{first}/allocations", organizer),
        "GET /allocations": ("/allocations", reseller),
        "GET /sold-tickets (admin)": ("/sold-tickets", admin),
        "GET /sold-tickets (organizer)": ("/sold-tickets", organizer),
        "GET /sold-tickets?event_id (organizer)": (f"/sold-tickets?event_id={first}", organizer),
        "GET /sold-tickets (reseller)": ("/sold-tickets", reseller),
        "GET /buyers": ("/buyers", admin),
        "GET /users": ("/users", admin),
    }


def calls_of(api, path, caller, limit):
    joiner = "&" if "?" in path else "?"
    with metered() as meter:
        response = api.get(f"{path}{joiner}limit={limit}", as_=caller)
    assert response.status_code == 200, response.json_body
    return meter.cost.calls, response.json_body


@pytest.mark.parametrize("limit", [5, 40])
def test_each_list_page_costs_at_most_three_calls(world, limit):
    over = {}
    for name, (path, caller) in listings(world).items():
        calls, _ = calls_of(world["api"], path, caller, limit)
        if calls > MAX_CALLS:
            over[name] = calls
    assert over == {}


def test_the_cost_does_not_grow_with_the_tables(world):
    api = world["api"]
    before = {
        name: calls_of(api, path, caller, 40)[0] for name, (path, caller) in listings(world).items()
    }
    organizer = world["organizer"]
    for _ in range(40):
        event_id = make_event(organizer, number_of_tickets=20)
        set_share(organizer, event_id, world["resellers"][0], 2)
    after = {
        name: calls_of(api, path, caller, 40)[0] for name, (path, caller) in listings(world).items()
    }
    assert after == before


def test_a_full_events_page_still_shows_every_events_counts(world):
    _, body = calls_of(world["api"], "/events", None, 40)
    first = next(e for e in body["events"] if e["id"] == world["events"][0])
    assert (first["allocated"], first["sold"], first["available"]) == (45, 45, 5)
    others = [e for e in body["events"] if e["id"] != world["events"][0]]
    assert {(e["allocated"], e["sold"], e["available"]) for e in others} == {(45, 0, 50)}


def test_pages_cut_to_fit_one_pool_read_still_list_every_event_once(world):
    """45 events of 4 pools each: a page of 40 would need 160 pool reads, so it is cut at 25
    (100 pools) and the next page starts right after the last event shown."""
    api, seen, pages, path = world["api"], [], [], "/events?limit=40"
    while path:
        response = api.get(path)
        assert response.status_code == 200
        pages.append(len(response.json_body["events"]))
        seen += [e["id"] for e in response.json_body["events"]]
        token = response.json_body.get("next_token")
        path = f"/events?limit=40&next_token={token}" if token else None
    assert sorted(seen) == sorted(world["events"])
    assert pages[0] == 25
