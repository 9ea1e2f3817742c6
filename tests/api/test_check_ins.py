"""POST/GET /events/{id}/check-ins and the undo: each ticket gets in once, a device's retry gets
the first answer, and every refusal says why and changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.auth import ticket_keys
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import utcnow
from chalicelib.db.tickets import Ticket
from tests.conftest import admin_user, buyer_body, make_event, make_user


def book(api, event_id, quantity=1, as_=None):
    answer = api.post(
        "/sold-tickets",
        {"event_id": event_id, "quantity": quantity, "buyer": buyer_body(name="Dana Door")},
        as_=as_,
    )
    assert answer.status_code == 201, answer.body
    return answer.json_body["tickets"]


@pytest.fixture
def door(api):
    organizer = make_user("organizer")
    event_id = make_event(organizer)
    device = api.post(f"/events/{event_id}/scanners", {"name": "Gate"}, as_=organizer).json_body
    return organizer, event_id, device["token"]


def scan(api, event_id, body, as_):
    return api.post(f"/events/{event_id}/check-ins", body, as_=as_)


def counted(api, event_id, user):
    body = api.get(f"/events/{event_id}/check-ins", as_=user).json_body
    return body["sold"], body["checked_in"]


def assert_error(response, status, code):
    assert (response.status_code, response.json_body["code"]) == (status, code), response.body


def test_a_scanned_ticket_gets_in_once(api, door):
    organizer, event_id, device = door
    ticket = book(api, event_id)[0]

    first = scan(api, event_id, {"qr": ticket["qr"]}, device)
    second = scan(api, event_id, {"qr": ticket["qr"]}, device)

    assert first.status_code == 201
    check_in = first.json_body["check_in"]
    assert set(check_in) == {"ticket_id", "code", "holder_name", "checked_in_at"}
    assert (check_in["ticket_id"], check_in["code"], check_in["holder_name"]) == (
        ticket["id"], ticket["code"], "Dana Door",
    )  # fmt: skip
    assert_error(second, 409, "already_checked_in")
    assert second.json_body["details"]["checked_in_at"] == check_in["checked_in_at"]
    assert counted(api, event_id, organizer) == (1, 1)


def test_a_retry_with_the_same_nonce_gets_the_first_answer(api, door):
    organizer, event_id, device = door
    ticket = book(api, event_id)[0]
    body = {"qr": ticket["qr"], "nonce": "scan-1"}

    first = scan(api, event_id, body, device)
    retry = scan(api, event_id, body, device)

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json_body == first.json_body
    assert counted(api, event_id, organizer) == (1, 1)


def test_the_same_nonce_from_another_device_or_another_nonce_is_a_second_scan(api, door):
    organizer, event_id, device = door
    other = api.post(f"/events/{event_id}/scanners", {"name": "Gate 2"}, as_=organizer)
    ticket = book(api, event_id)[0]
    scan(api, event_id, {"qr": ticket["qr"], "nonce": "n"}, device)

    assert_error(
        scan(api, event_id, {"qr": ticket["qr"], "nonce": "n"}, other.json_body["token"]),
        409,
        "already_checked_in",
    )
    assert_error(
        scan(api, event_id, {"qr": ticket["qr"], "nonce": "m"}, device), 409, "already_checked_in"
    )
    assert_error(scan(api, event_id, {"qr": ticket["qr"]}, device), 409, "already_checked_in")


@pytest.mark.parametrize("typed", ["{code}", "{lower}", "{bare}", " {code} "])
def test_a_typed_code_checks_in_too(api, door, typed):
    _, event_id, device = door
    ticket = book(api, event_id)[0]
    code = ticket["code"]
    entered = typed.format(code=code, lower=code.lower(), bare=code.replace("-", ""))

    response = scan(api, event_id, {"code": entered}, device)

    assert response.status_code == 201, response.body
    assert response.json_body["check_in"]["ticket_id"] == ticket["id"]


def test_the_organizer_and_admins_check_in_too_strangers_do_not(api, door):
    organizer, event_id, _ = door
    tickets = book(api, event_id, quantity=2)

    assert scan(api, event_id, {"qr": tickets[0]["qr"]}, organizer).status_code == 201
    assert scan(api, event_id, {"qr": tickets[1]["qr"]}, admin_user()).status_code == 201
    for stranger in (make_user("organizer"), make_user("reseller")):
        assert scan(api, event_id, {"qr": tickets[0]["qr"]}, stranger).status_code == 403
        assert api.get(f"/events/{event_id}/check-ins", as_=stranger).status_code == 403
    assert api.post(f"/events/{event_id}/check-ins", {"qr": tickets[0]["qr"]}).status_code == 401


def _tampered(qr: str) -> str:
    header, payload, signature = qr.split(".")
    flipped = payload[:5] + ("A" if payload[5] != "A" else "B") + payload[6:]
    return f"{header}.{flipped}.{signature}"


def _signed_by_another_key(ticket: dict) -> str:
    import jwt

    key = jwt.PyJWK(ticket_keys.new_private_jwk("stranger")).key
    claims = {"tid": ticket["id"], "eid": ticket["event_id"], "code": ticket["code"], "iat": 1}
    return jwt.encode(
        claims, key, algorithm="EdDSA", headers={"kid": ticket_keys.key_ring().signing_kid}
    )


@pytest.mark.parametrize("forge", ["tampered", "other_key", "garbage", "unknown_code"])
def test_a_forged_or_unknown_ticket_is_a_404(api, door, forge):
    organizer, event_id, device = door
    ticket = book(api, event_id)[0]
    body = {
        "tampered": {"qr": _tampered(ticket["qr"]) if forge == "tampered" else ""},
        "other_key": {"qr": _signed_by_another_key(ticket)},
        "garbage": {"qr": "not.a.jws"},
        "unknown_code": {"code": "ABCD-EFGH-JKLM"},
    }[forge]

    assert_error(scan(api, event_id, body, device), 404, "ticket_not_found")
    assert counted(api, event_id, organizer) == (1, 0)


def test_another_events_ticket_is_a_wrong_event(api, door):
    organizer, event_id, device = door
    elsewhere = book(api, make_event(organizer))[0]

    assert_error(scan(api, event_id, {"qr": elsewhere["qr"]}, device), 409, "wrong_event")
    assert_error(scan(api, event_id, {"code": elsewhere["code"]}, device), 409, "wrong_event")
    assert Ticket.get(elsewhere["id"]).checked_in_at is None


def test_a_cancelled_ticket_is_refused_at_the_door(api, door):
    organizer, event_id, device = door
    ticket = book(api, event_id)[0]
    assert api.delete(f"/sold-tickets/{ticket['id']}", as_=admin_user()).status_code == 204

    assert_error(scan(api, event_id, {"qr": ticket["qr"]}, device), 409, "ticket_cancelled")
    revoked = api.get(f"/events/{event_id}/revoked-tickets", as_=device).json_body["revoked"]
    assert [r["ticket_id"] for r in revoked] == [ticket["id"]]
    assert counted(api, event_id, organizer) == (0, 0)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"nonce": "n"},
        {"qr": "{qr}", "code": "{code}"},
        {"code": "ABCD-EFGH-JKL"},
        {"code": "ABCD-EFGH-JKL0"},
        {"code": 123},
        {"qr": ""},
        {"qr": "x" * 5000},
        {"qr": "{qr}", "nonce": ""},
        {"qr": "{qr}", "nonce": "n" * 129},
        {"qr": "{qr}", "nonce": "has space"},
        {"qr": "{qr}", "scanned_at": "yesterday"},
        {"qr": "{qr}", "scanned_at": "{future}"},
        {"qr": "{qr}", "ticket_id": "x"},
        [],
        "{",
    ],
)
def test_a_bad_check_in_is_a_400_and_checks_in_nothing(api, door, body):
    organizer, event_id, device = door
    ticket = book(api, event_id)[0]
    future = (utcnow() + timedelta(hours=1)).isoformat()
    if isinstance(body, dict):
        body = {
            k: v.format(qr=ticket["qr"], code=ticket["code"], future=future)
            if isinstance(v, str)
            else v
            for k, v in body.items()
        }

    response = scan(api, event_id, body, device)

    assert response.status_code == 400, response.body
    assert counted(api, event_id, organizer) == (1, 0)


def test_an_offline_scan_records_its_own_time_and_the_earliest_wins(api, door):
    organizer, event_id, device = door
    ticket = book(api, event_id)[0]
    later, earlier = utcnow() - timedelta(minutes=10), utcnow() - timedelta(minutes=30)

    first = scan(api, event_id, {"qr": ticket["qr"], "scanned_at": later.isoformat()}, device)
    second = scan(api, event_id, {"qr": ticket["qr"], "scanned_at": earlier.isoformat()}, organizer)
    third = scan(api, event_id, {"qr": ticket["qr"]}, device)

    assert first.status_code == 201
    assert first.json_body["check_in"]["checked_in_at"].startswith(later.isoformat()[:19])
    assert_error(second, 409, "already_checked_in")
    assert Ticket.get(ticket["id"]).checked_in_at == earlier
    assert (
        second.json_body["details"]["checked_in_at"] == third.json_body["details"]["checked_in_at"]
    )
    listed = api.get(f"/events/{event_id}/check-ins", as_=organizer).json_body["check_ins"]
    assert listed[0]["checked_in_at"].startswith(earlier.isoformat()[:19])
    assert counted(api, event_id, organizer) == (1, 1)


def test_check_ins_are_listed_latest_first_page_by_page_with_the_counts(api, door):
    organizer, event_id, device = door
    reseller = make_user("reseller")
    api.put(
        f"/events/{event_id}/allocations/{reseller.id}", {"number_of_tickets": 5}, as_=organizer
    )
    tickets = book(api, event_id, quantity=3) + book(api, event_id, quantity=1, as_=reseller)
    base = utcnow() - timedelta(hours=1)
    for minutes, ticket in enumerate(tickets[1:]):
        at = (base + timedelta(minutes=minutes)).isoformat()
        assert (
            scan(api, event_id, {"qr": ticket["qr"], "scanned_at": at}, device).status_code == 201
        )

    path = f"/events/{event_id}/check-ins"
    first = api.get(f"{path}?limit=2", as_=device).json_body
    second = api.get(f"{path}?limit=2&next_token={first['next_token']}", as_=device).json_body

    assert (first["sold"], first["checked_in"]) == (4, 3)
    seen = [c["ticket_id"] for c in first["check_ins"] + second["check_ins"]]
    assert seen == [tickets[3]["id"], tickets[2]["id"], tickets[1]["id"]]
    assert Allocation.get(event_id, reseller.id).checked_in == 1


def test_tickets_show_when_they_got_in(api, door):
    organizer, event_id, device = door
    ticket = book(api, event_id)[0]
    scan(api, event_id, {"qr": ticket["qr"]}, device)

    shown = api.get(f"/sold-tickets/{ticket['id']}", as_=organizer).json_body["ticket"]

    assert shown["status"] == "checked_in"
    assert shown["checked_in_at"]


def test_the_organizer_undoes_a_check_in(api, door):
    organizer, event_id, device = door
    ticket = book(api, event_id)[0]
    scan(api, event_id, {"qr": ticket["qr"], "nonce": "n"}, device)
    path = f"/events/{event_id}/check-ins/{ticket['id']}"

    assert api.delete(path, as_=device).status_code == 403
    assert api.delete(path, as_=make_user("organizer")).status_code == 403
    assert api.delete(path, as_=organizer).status_code == 204

    assert counted(api, event_id, organizer) == (1, 0)
    assert_error(api.delete(path, as_=organizer), 409, "not_checked_in")
    assert api.get(f"/events/{event_id}/check-ins", as_=organizer).json_body["check_ins"] == []
    assert scan(api, event_id, {"qr": ticket["qr"], "nonce": "n"}, device).status_code == 201
    assert api.delete(f"/events/{event_id}/check-ins/nope", as_=organizer).status_code == 404


def test_a_checked_in_ticket_is_not_cancelled_until_the_check_in_is_undone(api, door):
    organizer, event_id, device = door
    ticket = book(api, event_id)[0]
    scan(api, event_id, {"qr": ticket["qr"]}, device)

    assert_error(
        api.delete(f"/sold-tickets/{ticket['id']}", as_=admin_user()), 409, "already_checked_in"
    )
    api.delete(f"/events/{event_id}/check-ins/{ticket['id']}", as_=organizer)
    assert api.delete(f"/sold-tickets/{ticket['id']}", as_=admin_user()).status_code == 204
    assert counted(api, event_id, organizer) == (0, 0)


def test_a_check_in_answer_is_json_with_the_documented_fields_only(api, door):
    _, event_id, device = door
    ticket = book(api, event_id)[0]

    response = scan(api, event_id, {"qr": ticket["qr"]}, device)

    assert json.loads(response.body) == response.json_body
    assert "qr" not in response.json_body["check_in"]
