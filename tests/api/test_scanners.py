"""Door devices: an event's organizer creates them, their token is shown once and reaches only
that event's door routes, and revoking one (or deleting its event) refuses it at once."""

from __future__ import annotations

import pytest

from chalicelib.db.scanners import Scanner
from tests.conftest import admin_user, buyer_body, make_event, make_user


def create(api, event_id, user, name="North gate"):
    return api.post(f"/events/{event_id}/scanners", {"name": name}, as_=user)


@pytest.fixture
def door(api):
    """An organizer's event, one of its tickets, and a scanner of it."""
    organizer = make_user("organizer")
    event_id = make_event(organizer)
    ticket = api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer_body()})
    device = create(api, event_id, organizer).json_body
    return organizer, event_id, ticket.json_body["tickets"][0], device


def assert_refused(response):
    assert response.status_code in (401, 403), response.body
    assert set(response.json_body) == {"error", "code"}


def test_the_organizer_creates_a_scanner_and_sees_its_token_once(api, door):
    organizer, event_id, _, device = door

    assert set(device) == {"scanner", "token"}
    assert set(device["scanner"]) == {"id", "name", "created_at"}
    assert device["token"].startswith(f"scn_{device['scanner']['id']}_")
    listed = api.get(f"/events/{event_id}/scanners", as_=organizer).json_body
    assert listed["scanners"] == [device["scanner"]]
    stored = Scanner.get(device["scanner"]["id"])
    assert device["token"].split("_", 2)[2] not in stored.secret_hash  # only its hash is kept


def test_only_the_events_organizer_and_admins_manage_its_scanners(api, door):
    _, event_id, _, device = door
    path = f"/events/{event_id}/scanners"

    assert create(api, event_id, admin_user()).status_code == 201
    for stranger in (make_user("organizer"), make_user("reseller")):
        assert create(api, event_id, stranger).status_code == 403
        assert api.get(path, as_=stranger).status_code == 403
        assert api.delete(f"{path}/{device['scanner']['id']}", as_=stranger).status_code == 403
    assert create(api, "nope", admin_user()).status_code == 404
    assert api.post(path, {"name": "x"}).status_code == 401


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "   "}, {"name": "a\nb"}, {"name": "x" * 101}, {"name": 7},
     {"name": "Gate", "event_id": "other"}, [], "not json"],
)  # fmt: skip
def test_a_bad_scanner_body_is_a_400_and_creates_nothing(api, door, body):
    organizer, event_id, _, _ = door

    response = api.post(f"/events/{event_id}/scanners", body, as_=organizer)

    assert response.status_code == 400, response.body
    assert Scanner.count() == 1


def test_scanners_are_paginated(api, door):
    organizer, event_id, _, _ = door
    for name in ("B", "C"):
        create(api, event_id, organizer, name)
    path = f"/events/{event_id}/scanners"

    first = api.get(f"{path}?limit=2", as_=organizer).json_body
    second = api.get(f"{path}?limit=2&next_token={first['next_token']}", as_=organizer).json_body

    names = [s["name"] for s in first["scanners"] + second["scanners"]]
    assert sorted(names) == ["B", "C", "North gate"]


def test_a_scanner_reaches_its_events_door_routes_only(api, door):
    organizer, event_id, ticket, device = door
    token = device["token"]
    other_event = make_event(organizer)

    assert (
        api.post(f"/events/{event_id}/check-ins", {"qr": ticket["qr"]}, as_=token).status_code
        == 201
    )
    assert api.get(f"/events/{event_id}/check-ins", as_=token).status_code == 200
    assert api.get(f"/events/{event_id}/revoked-tickets", as_=token).status_code == 200
    for method, path in [
        ("GET", f"/events/{other_event}/check-ins"),
        ("POST", f"/events/{other_event}/check-ins"),
        ("GET", f"/events/{other_event}/revoked-tickets"),
        ("DELETE", f"/events/{event_id}/check-ins/{ticket['id']}"),
        ("GET", f"/events/{event_id}/scanners"),
        ("POST", f"/events/{event_id}/scanners"),
        ("GET", f"/events/{event_id}/allocations"),
        ("PUT", f"/events/{event_id}"),
        ("GET", "/myself"),
        ("GET", "/sold-tickets"),
        ("GET", f"/sold-tickets/{ticket['id']}"),
        ("GET", "/users"),
    ]:
        assert api.call(method, path, {"qr": ticket["qr"]}, as_=token).status_code == 403, path


def test_a_scanner_token_does_not_book(api, door):
    _, event_id, _, device = door

    response = api.post(
        "/sold-tickets", {"event_id": event_id, "buyer": buyer_body()}, as_=device["token"]
    )

    assert response.status_code == 403


def test_a_revoked_scanner_is_refused_at_once(api, door):
    organizer, event_id, ticket, device = door

    revoked = api.delete(f"/events/{event_id}/scanners/{device['scanner']['id']}", as_=organizer)

    assert revoked.status_code == 204
    assert_refused(api.get(f"/events/{event_id}/check-ins", as_=device["token"]))
    assert_refused(
        api.post(f"/events/{event_id}/check-ins", {"qr": ticket["qr"]}, as_=device["token"])
    )
    assert api.get(f"/events/{event_id}/scanners", as_=organizer).json_body["scanners"] == []
    again = api.delete(f"/events/{event_id}/scanners/{device['scanner']['id']}", as_=organizer)
    assert again.status_code == 404


def test_a_scanner_is_revoked_only_through_its_own_event(api, door):
    organizer, _, _, device = door
    other_event = make_event(organizer)

    response = api.delete(
        f"/events/{other_event}/scanners/{device['scanner']['id']}", as_=organizer
    )

    assert response.status_code == 404
    assert Scanner.count(device["scanner"]["id"]) == 1


def test_deleting_the_event_deletes_its_scanners(api, door):
    _, event_id, _, device = door

    assert api.delete(f"/events/{event_id}?force=true", as_=admin_user()).status_code == 204

    assert Scanner.count() == 0
    assert_refused(api.get(f"/events/{event_id}/check-ins", as_=device["token"]))


@pytest.mark.parametrize(
    "forged",
    ["scn_", "scn_x_y", "scn_{id}_", "scn_{id}_wrong-secret", "scn_{id}", "scn_{other}_{secret}",
     "scn_{id}_{secret}x", "scn_{ID}_{secret}"],
)  # fmt: skip
def test_a_forged_scanner_token_is_refused(api, door, forged):
    _, event_id, _, device = door
    _, scanner_id, secret = device["token"].split("_", 2)
    token = forged.format(id=scanner_id, ID=scanner_id.upper(), other="0" * 32, secret=secret)

    assert_refused(api.get(f"/events/{event_id}/check-ins", as_=token))
