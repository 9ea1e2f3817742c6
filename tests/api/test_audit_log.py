"""The audit log: every audited action leaves exactly one entry, written in the change's own
transaction (a refused or failed change leaves none); admins query it by actor, target and
action, an organizer reads their event's own log."""

from __future__ import annotations

import re

import pytest

from chalicelib.db.changes import Change
from chalicelib.db.users import User
from tests.api import test_storage_faults
from tests.api.test_storage_faults import dynamodb_error
from tests.conftest import (
    DEFAULT_PASSWORD,
    admin_user,
    buyer_body,
    make_event,
    make_user,
    sent_emails,
)

inject = test_storage_faults.inject  # the fixture that makes TransactWriteItems fail


def entries(api, query="", as_=None):
    answer = api.get(f"/audit-log{query}", as_=as_ or admin_user())
    assert answer.status_code == 200, answer.body
    return answer.json_body["entries"]


def only_entry(api, action, target_id):
    found = entries(api, f"?action={action}&target_id={target_id}")
    assert len(found) == 1, found
    return found[0]


def sold_ticket(api, event_id):
    answer = api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer_body()})
    return answer.json_body["tickets"][0]


@pytest.fixture
def world(api):
    organizer = make_user("organizer")
    reseller = make_user("reseller")
    event_id = make_event(organizer)
    return {"organizer": organizer, "reseller": reseller, "event_id": event_id}


def test_an_admins_block_and_unblock_are_each_one_entry_by_that_admin(api, world):
    admin, user = admin_user(), world["reseller"]

    api.put(f"/users/{user.id}", {"blocked": True}, as_=admin)
    api.put(f"/users/{user.id}", {"blocked": False}, as_=admin)

    blocked = only_entry(api, "user.blocked", user.id)
    assert (blocked["actor_id"], blocked["actor_role"], blocked["target_type"]) == (
        admin.id, "admin", "user",
    )  # fmt: skip
    assert blocked["details"] == {"reason": "admin"}
    assert only_entry(api, "user.unblocked", user.id)["actor_id"] == admin.id


def test_the_lockout_block_is_an_entry_by_nobody_with_the_failures_that_caused_it(api, world):
    user = world["organizer"]
    for _ in range(3):
        api.post("/login", {"email": user.email, "password": "wrong-password"})

    entry = only_entry(api, "user.blocked", user.id)

    assert entry["actor_id"] is None
    assert entry["details"] == {"reason": "failed_logins", "failed_logins": 3}


def test_user_lifecycle_entries(api, world):
    admin = admin_user()
    created = api.post(
        "/users",
        {
            "email": "new-one@example.com",
            "password": DEFAULT_PASSWORD,
            "name": "N",
            "role": "reseller",
        },
        as_=admin,
    ).json_body["user"]
    api.put(f"/users/{created['id']}", {"role": "organizer"}, as_=admin)
    api.put(f"/users/{created['id']}", {"password": "another-password"}, as_=admin)
    api.delete(f"/users/{created['id']}", as_=admin)

    assert only_entry(api, "user.created", created["id"])["actor_id"] == admin.id
    role = only_entry(api, "user.role_changed", created["id"])
    assert role["details"] == {"from": "reseller", "to": "organizer"}
    assert only_entry(api, "user.password_reset", created["id"])["details"] == {"by": "admin"}
    assert only_entry(api, "user.deleted", created["id"])["actor_id"] == admin.id


def test_a_registration_and_a_reset_through_the_emailed_link_are_entries_by_the_user(api):
    api.post(
        "/register", {"email": "self@example.com", "password": "password1", "role": "organizer"}
    )
    user_id = User.scan(User.email == "self@example.com").next().id
    api.post("/forgot-password", {"email": "self@example.com"})
    token = re.search(r"/reset-password/([\w-]+)", sent_emails()[-1].body).group(1)
    api.post("/reset-password", {"token": token, "password": "password2"})

    assert only_entry(api, "user.created", user_id)["actor_id"] == user_id
    assert only_entry(api, "user.password_reset", user_id)["details"] == {"by": "emailed link"}


def test_event_allocation_ticket_door_and_scanner_entries(api, world):
    organizer, reseller, event_id = world["organizer"], world["reseller"], world["event_id"]
    admin = admin_user()
    path = f"/events/{event_id}"
    api.put(path, {"title": "Renamed"}, as_=organizer)
    api.put(path, {"number_of_tickets": 150}, as_=organizer)
    api.put(f"{path}/allocations/{reseller.id}", {"number_of_tickets": 5}, as_=organizer)
    cancelled, moved, scanned = (sold_ticket(api, event_id) for _ in range(3))
    api.delete(f"/sold-tickets/{cancelled['id']}", as_=admin)
    api.put(f"/sold-tickets/{moved['id']}", {"buyer": buyer_body()}, as_=admin)
    device = api.post(f"{path}/scanners", {"name": "Gate"}, as_=organizer).json_body
    api.post(f"{path}/check-ins", {"qr": scanned["qr"]}, as_=device["token"])
    api.delete(f"{path}/check-ins/{scanned['id']}", as_=organizer)
    api.delete(f"{path}/scanners/{device['scanner']['id']}", as_=organizer)

    assert len(entries(api, f"?action=event.updated&target_id={event_id}")) == 2
    allocation = only_entry(api, "allocation.changed", f"{event_id}/{reseller.id}")
    assert allocation["details"]["number_of_tickets"] == 5
    assert only_entry(api, "ticket.cancelled", cancelled["id"])["actor_id"] == admin.id
    assert (
        only_entry(api, "ticket.buyer_changed", moved["id"])["details"]["from"] == moved["buyer_id"]
    )
    assert (
        only_entry(api, "ticket.checked_in", scanned["id"])["actor_id"] == device["scanner"]["id"]
    )
    assert only_entry(api, "ticket.check_in_undone", scanned["id"])["actor_id"] == organizer.id
    assert only_entry(api, "scanner.created", device["scanner"]["id"])["details"] == {
        "name": "Gate"
    }
    assert only_entry(api, "scanner.revoked", device["scanner"]["id"])
    assert only_entry(api, "event.created", event_id)["actor_id"] == organizer.id
    # The event's own log holds all of it, newest first, for its organizer.
    own = api.get(f"{path}/audit-log", as_=organizer).json_body["entries"]
    assert len(own) == 10
    assert [e["at"] for e in own] == sorted((e["at"] for e in own), reverse=True)
    assert own[0]["action"] == "scanner.revoked"


def test_a_forced_delete_is_recorded_with_force(api, world):
    event_id = world["event_id"]
    sold_ticket(api, event_id)

    assert api.delete(f"/events/{event_id}?force=true", as_=admin_user()).status_code == 204

    assert only_entry(api, "event.deleted", event_id)["details"]["forced"] is True


def test_refused_changes_leave_no_entry(api, world):
    event_id, organizer = world["event_id"], world["organizer"]
    ticket = sold_ticket(api, event_id)
    admin = admin_user()

    assert api.delete(f"/events/{event_id}", as_=organizer).status_code == 409  # has sales
    api.delete(f"/sold-tickets/{ticket['id']}", as_=admin)
    assert api.delete(f"/sold-tickets/{ticket['id']}", as_=admin).status_code == 409

    assert entries(api, f"?action=event.deleted&target_id={event_id}") == []
    assert len(entries(api, f"?action=ticket.cancelled&target_id={ticket['id']}")) == 1


def test_a_failed_transaction_leaves_neither_the_change_nor_its_entry(api, world, inject):
    faults, _, _ = inject
    user = world["reseller"]
    faults.append(dynamodb_error("ValidationException", message="injected"))
    before = Change.count()

    answer = api.put(f"/users/{user.id}", {"blocked": True}, as_=admin_user())

    assert answer.status_code == 500
    assert not User.get(user.id).blocked
    assert Change.count() == before


def test_bookings_are_announced_but_not_audited(api, world):
    ticket = sold_ticket(api, world["event_id"])

    [sold] = [c for c in Change.scan() if c.type == "ticket.sold"]

    assert sold.data["ticket_ids"] == [ticket["id"]]
    assert not sold.audited and sold.expires_at is not None
    assert entries(api, f"?target_id={ticket['id']}") == []


def test_filters_combine_and_pages_follow(api, world):
    admin, reseller = admin_user(), world["reseller"]
    for blocked in (True, False, True, False):
        api.put(f"/users/{reseller.id}", {"blocked": blocked}, as_=admin)

    by_actor = entries(api, f"?actor_id={admin.id}&action=user.unblocked")
    first = api.get(f"/audit-log?target_id={reseller.id}&limit=3", as_=admin).json_body
    rest = api.get(
        f"/audit-log?target_id={reseller.id}&limit=3&next_token={first['next_token']}", as_=admin
    ).json_body

    assert len(by_actor) == 2 and {e["action"] for e in by_actor} == {"user.unblocked"}
    assert len(first["entries"] + rest["entries"]) == 5  # with its creation
    assert rest["next_token"] is None


def test_only_admins_read_the_log_and_organizers_their_events(api, world):
    organizer, event_id = world["organizer"], world["event_id"]

    assert api.get("/audit-log", as_=organizer).status_code == 403
    assert api.get("/audit-log").status_code == 401
    assert api.get(f"/events/{event_id}/audit-log", as_=make_user("organizer")).status_code == 403
    assert api.get(f"/events/{event_id}/audit-log", as_=world["reseller"]).status_code == 403
    assert api.get(f"/events/{event_id}/audit-log", as_=admin_user()).status_code == 200
    assert api.get("/audit-log?action=nope", as_=admin_user()).status_code == 400
