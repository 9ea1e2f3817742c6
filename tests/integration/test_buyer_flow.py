"""A buyer without an account, end to end over HTTP against the local stack: the emailed access
link, a buyer token, my tickets with their QR, a cancellation inside the window (the seat comes
back) and one outside it (refused), and erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.test_accounts_flow import admin_token, emailed_link
from tests.integration.test_ticket_races import Caller, buyer, seller

pytestmark = pytest.mark.integration


def event(organizer: Caller, **fields) -> str:
    time = datetime.now(UTC) + timedelta(days=30)
    body = {"title": "Flow", "time": time.isoformat(), "price": "10", "currency_code": "EUR",
            "number_of_tickets": 10, **fields}  # fmt: skip
    answer = organizer("POST", "/events", body)
    assert answer.status_code == 201, answer.text
    return answer.json()["event"]["id"]


def test_a_buyer_opens_their_tickets_cancels_one_and_erases_their_data(local_stack):
    _, organizer = seller(local_stack, "organizer")
    anyone = Caller(local_stack)
    window = (datetime.now(UTC) + timedelta(days=20)).isoformat()
    flexible, strict = event(organizer, cancellable_until=window), event(organizer)
    me = buyer()
    for event_id, quantity in ((flexible, 2), (strict, 1)):
        sale = {"event_id": event_id, "quantity": quantity, "buyer": me}
        assert anyone("POST", "/sold-tickets", sale).status_code == 201

    assert anyone("POST", "/buyer-access", {"email": me["email"]}).status_code == 202
    token = emailed_link(local_stack, me["email"], "my-tickets").rsplit("/", 1)[1]
    session = anyone("POST", "/buyer-sessions", {"token": token})
    assert session.status_code == 200
    assert anyone("POST", "/buyer-sessions", {"token": token}).status_code == 400  # single use
    mine = Caller(local_stack, session.json()["auth_token"])

    tickets = mine("GET", "/my-tickets").json()["tickets"]
    assert len(tickets) == 3 and all(t["qr"].count(".") == 2 for t in tickets)
    by_event = {t["event"]["id"]: t for t in tickets}
    before = anyone("GET", f"/events/{flexible}").json()["event"]["available"]

    assert mine("DELETE", f"/my-tickets/{by_event[flexible]['id']}").status_code == 204
    assert anyone("GET", f"/events/{flexible}").json()["event"]["available"] == before + 1
    refused = mine("DELETE", f"/my-tickets/{by_event[strict]['id']}")
    assert (refused.status_code, refused.json()["code"]) == (409, "not_cancellable")
    assert mine("GET", "/myself").status_code == 403  # a buyer token reaches /my-* only

    held = mine("DELETE", "/my-data")
    assert (held.status_code, held.json()["code"]) == (409, "has_upcoming_tickets")
    admin = Caller(local_stack, admin_token(local_stack))
    for ticket in mine("GET", "/my-tickets").json()["tickets"]:
        if ticket["status"] == "valid":
            assert admin("DELETE", f"/sold-tickets/{ticket['id']}").status_code == 204
    assert mine("DELETE", "/my-data").status_code == 204
    assert mine("GET", "/my-tickets").status_code in (401, 403)
