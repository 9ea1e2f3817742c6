"""Buyers' own access: POST /buyer-access, the link's page, POST /buyer-sessions and the /my-*
routes a buyer token reaches (and nothing else)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from chalicelib.db.base import utcnow
from chalicelib.db.buyers import Buyer
from chalicelib.db.events import Event
from chalicelib.db.link_tokens import LinkToken, hash_token
from chalicelib.db.tickets import Ticket
from chalicelib.db.uniques import UniqueClaim
from tests.conftest import admin_user, buyer_body, make_event, make_user, sent_emails

LINK = re.compile(r"http://api\.test/my-tickets/([A-Za-z0-9_-]+)")


def book(api, event_id, email, quantity=1):
    answer = api.post(
        "/sold-tickets",
        {"event_id": event_id, "quantity": quantity, "buyer": buyer_body(email=email)},
    )
    assert answer.status_code == 201, answer.body
    return answer.json_body["tickets"]


def access_links(email):
    return [
        LINK.search(m.body).group(1) for m in sent_emails() if email in m.to and LINK.search(m.body)
    ]


def open_session(api, email):
    assert api.post("/buyer-access", {"email": email}).status_code == 202
    answer = api.post("/buyer-sessions", {"token": access_links(email)[-1]})
    assert answer.status_code == 200, answer.body
    return answer.json_body["auth_token"]


def cancellable_event(organizer=None, *, window=timedelta(days=10)):
    event_id = make_event(organizer)
    Event(id=event_id).update(actions=[Event.cancellable_until.set(utcnow() + window)])
    return event_id


@pytest.fixture
def bea(api):
    """A buyer with two tickets for an event she may still cancel, and a session."""
    email = "bea@example.com"
    event_id = cancellable_event()
    tickets = book(api, event_id, email, quantity=2)
    return email, event_id, tickets, open_session(api, email)


# --- the link and the session ----------------------------------------------------------


def test_a_buyer_gets_a_single_use_link_and_the_answer_says_nothing(api):
    book(api, make_event(), "known@example.com")

    known = api.post("/buyer-access", {"email": "Known@Example.com"})
    unknown = api.post("/buyer-access", {"email": "nobody@example.com"})

    assert (known.status_code, unknown.status_code) == (202, 202)
    assert known.json_body == unknown.json_body
    assert len(access_links("known@example.com")) == 1
    assert access_links("nobody@example.com") == []


def test_the_session_lasts_an_hour_and_the_link_works_once(api):
    book(api, make_event(), "once@example.com")
    api.post("/buyer-access", {"email": "once@example.com"})
    token = access_links("once@example.com")[-1]

    first = api.post("/buyer-sessions", {"token": token})
    second = api.post("/buyer-sessions", {"token": token})

    assert first.status_code == 200
    assert (first.json_body["token_type"], first.json_body["expires_in"]) == ("Bearer", 3600)
    assert (second.status_code, second.json_body["code"]) == (400, "invalid_access_link")


def test_an_expired_or_foreign_link_opens_nothing(api):
    book(api, make_event(), "late@example.com")
    api.post("/buyer-access", {"email": "late@example.com"})
    token = access_links("late@example.com")[-1]
    LinkToken(token_hash=hash_token(token)).update(
        actions=[LinkToken.expires_at.set(utcnow() - timedelta(seconds=1))]
    )
    api.post("/forgot-password", {"email": make_user().email})  # a link of another purpose
    reset = re.search(r"/reset-password/([\w-]+)", sent_emails()[-1].body).group(1)

    for refused in (token, reset, "made-up"):
        answer = api.post("/buyer-sessions", {"token": refused})
        assert (answer.status_code, answer.json_body["code"]) == (400, "invalid_access_link")


def test_the_links_page_uses_nothing_up_and_its_form_shows_the_tickets(api):
    tickets = book(api, make_event(), "page@example.com", quantity=2)
    api.post("/buyer-access", {"email": "page@example.com"})
    token = access_links("page@example.com")[-1]

    page = api.get(f"/my-tickets/{token}")
    again = api.get(f"/my-tickets/{token}")
    shown = api.post(
        "/buyer-sessions",
        urlencode({"token": token}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert (page.status_code, again.status_code) == (200, 200)
    assert 'action="http://api.test/buyer-sessions"' in page.body.decode()
    assert shown.status_code == 200
    html = shown.body.decode()
    assert shown.headers["Content-Type"].startswith("text/html")
    for ticket in tickets:
        assert ticket["code"] in html
    assert html.count("<svg") == 2
    assert api.get(f"/my-tickets/{token}").status_code == 400  # used by the form


def test_a_bad_session_body_is_a_400(api):
    for body in ({}, {"token": ""}, {"token": "a b"}, {"token": "x", "more": 1}, []):
        assert api.post("/buyer-sessions", body).status_code == 400


# --- what a buyer token reaches --------------------------------------------------------


def test_my_tickets_list_the_buyers_tickets_with_event_code_and_qr(api, bea):
    _, event_id, tickets, session = bea
    book(api, make_event(), "someone-else@example.com")

    answer = api.get("/my-tickets", as_=session)

    assert answer.status_code == 200
    listed = answer.json_body["tickets"]
    assert {t["id"] for t in listed} == {t["id"] for t in tickets}
    for item in listed:
        assert item["event"]["id"] == event_id and item["event"]["title"] == "A music concert"
        assert item["qr"] == next(t["qr"] for t in tickets if t["id"] == item["id"])
        assert (item["status"], item["cancellable"], item["checked_in_at"]) == ("valid", True, None)
        assert (item["ticket_type_id"], item["ticket_type_name"]) == (event_id, "General admission")
        assert item["order_id"] == next(t["order_id"] for t in tickets if t["id"] == item["id"])


def test_a_buyer_token_reaches_only_the_my_routes(api, bea):
    _, event_id, tickets, session = bea

    for method, path in [
        ("GET", "/myself"),
        ("GET", "/events"),  # open to anyone, but not with a buyer's token
        ("GET", "/sold-tickets"),
        ("GET", f"/sold-tickets/{tickets[0]['id']}"),
        ("GET", f"/events/{event_id}/check-ins"),
        ("POST", f"/events/{event_id}/check-ins"),
        ("GET", "/buyers"),
        ("GET", "/users"),
    ]:
        status = api.call(method, path, {"qr": tickets[0]["qr"]}, as_=session).status_code
        assert status == 403 or (path == "/events" and status == 200), (method, path, status)
    booking = api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer_body()}, as_=session)
    assert booking.status_code == 403


def test_accounts_cannot_use_the_my_routes(api):
    organizer = make_user("organizer")

    assert api.get("/my-tickets", as_=organizer).status_code == 403
    assert api.delete("/my-data", as_=admin_user()).status_code == 403
    assert api.get("/my-tickets").status_code == 401


def test_a_forged_buyer_token_is_refused(api, bea):
    import jwt

    from tests.conftest import TEST_ENV

    session = bea[3]
    claims = jwt.decode(session, options={"verify_signature": False})
    for forged in (
        jwt.encode({**claims, "ver": 1}, TEST_ENV["JWT_SECRET"], algorithm="HS256"),
        jwt.encode({**claims, "aud": "events-api"}, TEST_ENV["JWT_SECRET"], algorithm="HS256"),
        jwt.encode(claims, "another-secret-of-enough-length-000", algorithm="HS256"),
    ):
        assert api.get("/my-tickets", as_=forged).status_code in (401, 403)


# --- cancel ----------------------------------------------------------------------------


def available(api, event_id):
    return api.get(f"/events/{event_id}").json_body["event"]["available"]


def test_a_buyer_cancels_inside_the_window_and_the_seat_returns(api, bea):
    email, event_id, tickets, session = bea
    before = available(api, event_id)

    answer = api.delete(f"/my-tickets/{tickets[0]['id']}", as_=session)

    assert answer.status_code == 204
    assert available(api, event_id) == before + 1
    assert Ticket.get(tickets[0]["id"]).is_cancelled
    assert any("cancelled" in m.subject.lower() for m in sent_emails() if email in m.to)
    again = api.delete(f"/my-tickets/{tickets[0]['id']}", as_=session)
    assert (again.status_code, again.json_body["code"]) == (409, "ticket_cancelled")
    assert available(api, event_id) == before + 1


@pytest.mark.parametrize("window", ["none", "closed"])
def test_outside_the_window_a_buyer_cannot_cancel(api, window):
    event_id = make_event() if window == "none" else cancellable_event(window=-timedelta(hours=1))
    [ticket] = book(api, event_id, "late@example.com")
    session = open_session(api, "late@example.com")

    answer = api.delete(f"/my-tickets/{ticket['id']}", as_=session)

    assert (answer.status_code, answer.json_body["code"]) == (409, "not_cancellable")
    assert not Ticket.get(ticket["id"]).is_cancelled
    listed = api.get("/my-tickets", as_=session).json_body["tickets"]
    assert listed[0]["cancellable"] is False


def test_a_checked_in_ticket_cannot_be_cancelled_by_its_buyer(api, bea):
    _, event_id, tickets, session = bea
    organizer = Event.get(event_id).organizer_id
    from chalicelib.auth.principal import Principal
    from chalicelib.services.door.check_ins import check_in

    check_in(actor=Principal(user_id=organizer, role="organizer"), event_id=event_id,
             qr=tickets[0]["qr"])  # fmt: skip

    answer = api.delete(f"/my-tickets/{tickets[0]['id']}", as_=session)

    assert (answer.status_code, answer.json_body["code"]) == (409, "not_cancellable")


def test_a_buyer_cannot_cancel_someone_elses_ticket(api, bea):
    _, event_id, _, session = bea
    [other] = book(api, event_id, "other@example.com")

    assert api.delete(f"/my-tickets/{other['id']}", as_=session).status_code == 404
    assert api.delete("/my-tickets/nope", as_=session).status_code == 404
    assert not Ticket.get(other["id"]).is_cancelled


# --- resend ----------------------------------------------------------------------------


def test_resend_emails_every_upcoming_ticket_with_its_qr(api, bea):
    from tests.api.test_bookings import decoded_qr

    email, _, tickets, session = bea
    [later] = book(api, make_event(days=60), email)

    answer = api.post("/my-tickets/resend", as_=session)

    assert answer.status_code == 202
    [message] = [m for m in sent_emails() if email in m.to and m.subject == "Your tickets"]
    assert sorted(decoded_qr(i) for i in message.images) == sorted(
        t["qr"] for t in [*tickets, later]
    )


def test_resend_is_limited_and_needs_upcoming_tickets(api, bea, rate_limits):
    rate_limits(tickets_resend="2/3600")
    session = bea[3]

    statuses = [api.post("/my-tickets/resend", as_=session).status_code for _ in range(3)]

    assert statuses == [202, 202, 429]
    for ticket in bea[2]:
        api.delete(f"/my-tickets/{ticket['id']}", as_=session)
    rate_limits(tickets_resend="10/3600")
    answer = api.post("/my-tickets/resend", as_=session)
    assert (answer.status_code, answer.json_body["code"]) == (409, "no_upcoming_tickets")


# --- erase -----------------------------------------------------------------------------


def test_erasure_is_refused_while_upcoming_tickets_are_held(api, bea):
    session = bea[3]

    answer = api.delete("/my-data", as_=session)

    assert (answer.status_code, answer.json_body["code"]) == (409, "has_upcoming_tickets")
    assert Buyer.count() == 1


def test_erasure_after_the_event_deletes_the_buyer_and_their_details(api, bea):
    email, event_id, tickets, session = bea
    Event(id=event_id).update(actions=[Event.time.set(utcnow() - timedelta(hours=1))])

    answer = api.delete("/my-data", as_=session)

    assert answer.status_code == 204
    assert Buyer.count() == 0
    assert UniqueClaim.count(f"buyer-email:{email}") == 0
    for ticket in tickets:
        assert Ticket.get(ticket["id"]).holder is None
    assert api.get("/my-tickets", as_=session).status_code == 403  # the session ended
    api.post("/buyer-access", {"email": email})
    assert len(access_links(email)) == 1  # the one from before: nobody to send a link to


def test_cancelled_tickets_do_not_hold_up_erasure(api, bea):
    _, _, tickets, session = bea
    for ticket in tickets:
        api.delete(f"/my-tickets/{ticket['id']}", as_=session)

    assert api.delete("/my-data", as_=session).status_code == 204


def test_a_buyer_reads_its_own_orders_and_no_one_elses(api):
    event_id = make_event()
    mine = api.post("/orders", {"event_id": event_id, "items": [{"quantity": 1}],
                                "buyer": buyer_body(email="own@example.com")})  # fmt: skip
    theirs = api.post("/orders", {"event_id": event_id, "items": [{"quantity": 1}],
                                  "buyer": buyer_body()})  # fmt: skip
    session = open_session(api, "own@example.com")

    own = api.get(f"/orders/{mine.json_body['order']['id']}", as_=session)
    other = api.get(f"/orders/{theirs.json_body['order']['id']}", as_=session)

    assert own.status_code == 200
    assert own.json_body["order"]["tickets"][0]["ticket_type_name"] == "General admission"
    assert other.status_code == 403
    assert api.get("/orders", as_=session).status_code == 403
    cancel = api.post(f"/orders/{mine.json_body['order']['id']}/cancel", as_=session)
    assert cancel.status_code == 403


def test_correcting_a_buyers_email_ends_the_sessions_opened_through_the_old_one(api):
    event_id = make_event()
    book(api, event_id, "typo@example.com")
    session = open_session(api, "typo@example.com")
    assert api.get("/my-tickets", as_=session).status_code == 200
    buyers = api.get("/buyers", as_=admin_user()).json_body["buyers"]
    buyer_id = next(b["id"] for b in buyers if b["email"] == "typo@example.com")

    renamed = api.put(f"/buyers/{buyer_id}", {"name": "Bea"}, as_=admin_user())
    assert renamed.status_code == 200
    assert api.get("/my-tickets", as_=session).status_code == 200  # a new name ends nothing
    moved = api.put(f"/buyers/{buyer_id}", {"email": "right@example.com"}, as_=admin_user())

    assert moved.status_code == 200
    assert api.get("/my-tickets", as_=session).status_code == 403  # the authorizer denies it
    assert api.get("/my-tickets", as_=open_session(api, "right@example.com")).status_code == 200
