"""Each caller kind against each event, allocation, booking and buyer route."""

import pytest

from tests.conftest import admin_user, buyer_body, make_event, make_user

CALLERS = (
    "anonymous",
    "admin",
    "owner",
    "other_organizer",
    "reseller",
    "other_reseller",
    "no_role",
)


def row(method, path, body, **expected):
    return method, path, body, expected


# {event}: the owner's event; {reseller}: the reseller holding an allocation of it;
# {ticket}: a ticket that reseller sold; {buyer}: its buyer.
MATRIX = [
    row("GET", "/events", None, anonymous=200, admin=200, owner=200, reseller=200, no_role=200),
    row("GET", "/events/{event}", None, anonymous=200, admin=200, other_organizer=200, no_role=200),
    row("POST", "/events", "event", anonymous=401, admin=201, owner=201, reseller=403, no_role=403),
    row("PUT", "/events/{event}", {"title": "T"}, anonymous=401, admin=200, owner=200,
        other_organizer=403, reseller=403, no_role=403),
    row("DELETE", "/events/{event}", None, anonymous=401, other_organizer=403, reseller=403,
        no_role=403, admin=409, owner=409),
    row("GET", "/events/{event}/allocations", None, anonymous=401, admin=200, owner=200,
        other_organizer=403, reseller=403, no_role=403),
    row("PUT", "/events/{event}/allocations/{reseller}", {"number_of_tickets": 8}, anonymous=401,
        admin=200, owner=200, other_organizer=403, reseller=403, no_role=403),
    row("DELETE", "/events/{event}/allocations/{reseller}", None, anonymous=401, admin=204,
        owner=204, other_organizer=403, reseller=403, no_role=403),
    row("GET", "/allocations", None, anonymous=401, admin=403, owner=403, reseller=200,
        other_reseller=200, no_role=403),
    row("PUT", "/allocations/{event}", {"on_sale": False}, anonymous=401, admin=403, owner=403,
        reseller=200, other_reseller=404, no_role=403),
    row("GET", "/events/{event}/offers", None, anonymous=200, admin=200, reseller=200),
    row("POST", "/sold-tickets", "booking", anonymous=201, admin=201, owner=201, reseller=201,
        other_reseller=201, no_role=201),
    row("GET", "/sold-tickets", None, anonymous=401, admin=200, owner=200, other_organizer=200,
        reseller=200, no_role=403),
    row("GET", "/sold-tickets/{ticket}", None, anonymous=401, admin=200, owner=200,
        other_organizer=403, reseller=200, other_reseller=403, no_role=403),
    row("PUT", "/sold-tickets/{ticket}", "change_buyer", anonymous=401, admin=200, owner=403,
        reseller=403, no_role=403),
    row("DELETE", "/sold-tickets/{ticket}", None, anonymous=401, admin=204, owner=403,
        reseller=403, no_role=403),
    row("GET", "/buyers", None, anonymous=401, admin=200, owner=403, reseller=403, no_role=403),
    row("GET", "/buyers/{buyer}", None, anonymous=401, admin=200, owner=403, reseller=403),
    row("PUT", "/buyers/{buyer}", {"name": "N"}, anonymous=401, admin=200, owner=403, reseller=403),
    row("DELETE", "/buyers/{buyer}", None, anonymous=401, admin=409, owner=403, reseller=403),
]  # fmt: skip


@pytest.fixture
def world(api):
    owner = make_user("organizer")
    reseller = make_user("reseller")
    event_id = make_event(owner, number_of_tickets=50)
    api.put(f"/events/{event_id}/allocations/{reseller.id}", {"number_of_tickets": 10}, as_=owner)
    api.put(f"/allocations/{event_id}", {"on_sale": True}, as_=reseller)
    sold = api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer_body()}, as_=reseller)
    ticket = sold.json_body["tickets"][0]
    users = {
        "anonymous": None,
        "admin": admin_user(),
        "owner": owner,
        "other_organizer": make_user("organizer"),
        "reseller": reseller,
        "other_reseller": make_user("reseller"),
        "no_role": make_user(None, password=None, provider="github"),
    }
    ids = {
        "event": event_id,
        "reseller": reseller.id,
        "ticket": ticket["id"],
        "buyer": ticket["buyer_id"],
    }
    return users, ids


def body_for(kind, ids, owner_id):
    if kind == "event":
        return {"title": "New", "time": "2099-01-01", "price": "1", "currency_code": "EUR",
                "number_of_tickets": 5, **({"organizer_id": owner_id})}  # fmt: skip
    if kind == "booking":
        return {"event_id": ids["event"], "seller_id": owner_id, "buyer": buyer_body()}
    if kind == "change_buyer":
        return {"buyer": buyer_body()}
    return kind


CASES = [
    pytest.param(kind, method, path, body, expected[kind], id=f"{kind}-{method}-{path}")
    for method, path, body, expected in MATRIX
    for kind in CALLERS
    if kind in expected
]


@pytest.mark.parametrize(("kind", "method", "path", "body", "expected"), CASES)
def test_tickets_authorization_matrix(api, world, kind, method, path, body, expected):
    users, ids = world
    body = body_for(body, ids, users["owner"].id)
    if kind == "owner" and method == "POST" and path == "/events":
        body.pop("organizer_id")

    response = api.call(method, path.format(**ids), body, as_=users[kind])

    assert response.status_code == expected, response.body
    if expected >= 400:
        assert set(response.json_body) >= {"error", "code"}
