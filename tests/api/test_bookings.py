"""POST /sold-tickets and the sold-ticket administration routes."""

import json
import re
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from chalicelib.db.allocations import Allocation
from chalicelib.db.base import utcnow
from chalicelib.db.buyers import Buyer
from chalicelib.db.events import Event
from chalicelib.db.idempotency import IdempotencyRecord
from chalicelib.db.tickets import Ticket
from tests.conftest import (
    admin_user,
    buyer_body,
    drain_stream,
    make_event,
    make_user,
    sent_emails,
)

TICKET_FIELDS = {
    "id",
    "event_id",
    "order_id",
    "ticket_type_id",
    "ticket_type_name",
    "seller_id",
    "buyer_id",
    "holder",
    "code",
    "qr",
    "price",
    "currency_code",
    "created_at",
    "status",
    "cancelled_at",
    "checked_in_at",
}


def book(api, event_id, *, quantity=None, seller_id=None, buyer=None, as_=None, headers=None):
    body = {"event_id": event_id, "buyer": buyer or buyer_body()}
    if quantity is not None:
        body["quantity"] = quantity
    if seller_id is not None:
        body["seller_id"] = seller_id
    return api.post("/sold-tickets", body, as_=as_, headers=headers)


def pool(event_id, seller_id):
    p = Allocation.get(event_id, seller_id)
    return p.number_of_tickets, p.sold, p.available


def nothing_sold(event_id, organizer_id, total):
    assert pool(event_id, organizer_id) == (total, 0, total)
    assert Ticket.count() == 0
    assert Buyer.count() == 0


# --- booking -------------------------------------------------------------------------


def test_anonymous_buyer_books_from_the_organizer_by_default(api):
    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=10, price="63.72")

    response = book(api, event_id, quantity=2)

    assert response.status_code == 201
    tickets = response.json_body["tickets"]
    assert len(tickets) == 2
    assert all(set(t) == TICKET_FIELDS for t in tickets)
    assert {(t["seller_id"], t["price"], t["currency_code"]) for t in tickets} == {
        (organizer.id, "63.72", "GBP")
    }
    assert len({t["code"] for t in tickets}) == 2
    assert all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", t["code"]) for t in tickets)
    assert response.json_body["email"] == "queued"
    assert sent_emails(drain=False) == []  # the stream's consumer sends it, not the request
    assert pool(event_id, organizer.id) == (10, 2, 8)
    assert Ticket.count() == 2


def test_quantity_defaults_to_one(api):
    event_id = make_event()

    assert len(book(api, event_id).json_body["tickets"]) == 1


def test_buyer_gets_a_confirmation_email_with_the_codes(api):
    event_id = make_event()
    buyer = buyer_body(email="Bea@Example.com")

    response = book(api, event_id, quantity=3, buyer=buyer)

    [message] = [m for m in sent_emails() if "bea@example.com" in m.to]
    assert "A music concert" in message.subject
    tickets = response.json_body["tickets"]
    for ticket in tickets:
        assert ticket["code"] in message.body
        assert ticket["code"] in message.html
    assert [decoded_qr(image) for image in message.images] == [t["qr"] for t in tickets]
    for image in message.images:
        assert f'src="cid:{image["content_id"]}"' in message.html


def decoded_qr(image: dict) -> str:
    """What a phone's scanner reads from the emailed image (zxing-cpp, the ZXing decoder)."""
    import base64
    import io

    import zxingcpp
    from PIL import Image

    assert image["content_type"] == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(image["base64"]))))
    # zxing may report one code twice (found at two scales); the image must hold one text.
    (text,) = {(f.format, f.text) for f in found}
    assert text[0] == zxingcpp.BarcodeFormat.QRCode
    return text[1]


def test_a_later_booking_keeps_the_buyer_record_and_puts_its_details_on_the_tickets(api):
    event_id = make_event()

    first = book(api, event_id, buyer=buyer_body(email="same@example.com", name="First"))
    second = book(
        api,
        event_id,
        buyer=buyer_body(email="SAME@example.com", name="Someone Else", phone="+14155552671"),
    )

    [first_ticket], [second_ticket] = first.json_body["tickets"], second.json_body["tickets"]
    assert first_ticket["buyer_id"] == second_ticket["buyer_id"]
    [buyer] = list(Buyer.scan())
    assert (buyer.email, buyer.name, buyer.phone) == ("same@example.com", "First", "+442079460958")
    assert first_ticket["holder"] == {"name": "First", "phone": "+442079460958"}
    assert second_ticket["holder"] == {"name": "Someone Else", "phone": "+14155552671"}
    admin = admin_user()
    shown = api.get(f"/buyers/{buyer.id}", as_=admin).json_body["buyer"]
    assert (shown["name"], shown["phone"]) == ("First", "+442079460958")
    stored = api.get(f"/sold-tickets/{second_ticket['id']}", as_=admin).json_body["ticket"]
    assert stored["holder"] == {"name": "Someone Else", "phone": "+14155552671"}
    confirmation = [m for m in sent_emails() if "Someone Else" in m.body]
    assert len(confirmation) == 1


def test_sold_out_is_a_409_and_sells_nothing_more(api):
    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=3)
    book(api, event_id, quantity=2)

    too_many = book(api, event_id, quantity=2)
    last = book(api, event_id, quantity=1)
    after = book(api, event_id)

    assert too_many.status_code == 409
    assert too_many.json_body["error"] == "Event sold out."
    assert last.status_code == 201
    assert (after.status_code, after.json_body["code"]) == (409, "sold_out")
    assert pool(event_id, organizer.id) == (3, 3, 0)
    assert Ticket.count() == 3


def test_unknown_event_or_seller_is_a_404(api):
    event_id = make_event()

    assert book(api, "nope").status_code == 404
    assert book(api, event_id, seller_id="nobody").status_code == 404
    assert book(api, event_id, seller_id=make_user("reseller").id).status_code == 404
    assert Ticket.count() == 0


def test_a_past_event_cannot_be_booked(api):
    organizer = make_user("organizer")
    event_id = make_event(organizer)
    Event.get(event_id).update(actions=[Event.time.set(utcnow() - timedelta(hours=1))])

    response = book(api, event_id)

    assert (response.status_code, response.json_body["code"]) == (409, "event_over")
    assert Ticket.count() == 0


def test_a_logged_in_seller_books_its_own_tickets_for_a_buyer(api):
    organizer = make_user("organizer")
    event_id = make_event(organizer)

    response = book(api, event_id, as_=organizer)

    assert response.status_code == 201
    assert response.json_body["tickets"][0]["seller_id"] == organizer.id


def test_a_bad_bearer_token_on_the_open_booking_route_is_refused(api):
    event_id = make_event()

    response = book(api, event_id, headers={"Authorization": "Bearer garbage"})

    assert response.status_code == 401
    assert Ticket.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": 11}, "quantity"),
        ({"quantity": "2"}, "quantity"),
        ({"buyer": buyer_body(phone="07700 900123")}, "buyer.phone"),
        ({"buyer": buyer_body(phone="+99912")}, "buyer.phone"),
        ({"buyer": buyer_body(email="not-an-email")}, "buyer.email"),
        ({"buyer": buyer_body(name="")}, "buyer.name"),
        ({"buyer": {"name": "x", "email": "a@example.com"}}, "buyer.phone"),
        ({"buyer": None}, "buyer"),
        ({"event_id": ""}, "event_id"),
        ({"coupon": "FREE"}, "coupon"),
    ],
)
def test_invalid_booking_is_a_400_and_changes_nothing(api, change, field):
    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=5)
    body = {"event_id": event_id, "quantity": 1, "buyer": buyer_body(), **change}

    response = api.post("/sold-tickets", body)

    assert response.status_code == 400
    assert field in response.json_body["details"]
    nothing_sold(event_id, organizer.id, 5)
    assert sent_emails() == []


def test_phone_numbers_are_stored_in_e164(api):
    event_id = make_event()

    book(api, event_id, buyer=buyer_body(phone=" +44 20 7946 0958 "))

    assert next(Buyer.scan()).phone == "+442079460958"


# --- idempotency ---------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_result(api):
    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=10)
    buyer = buyer_body()

    first = book(api, event_id, quantity=2, buyer=buyer, headers={"Idempotency-Key": "k-1"})
    again = book(api, event_id, quantity=2, buyer=buyer, headers={"Idempotency-Key": "k-1"})

    assert first.status_code == again.status_code == 201
    assert [t["id"] for t in again.json_body["tickets"]] == [
        t["id"] for t in first.json_body["tickets"]
    ]
    assert again.json_body["email"] == "queued"
    assert pool(event_id, organizer.id) == (10, 2, 8)
    assert len(sent_emails()) == 1


def test_the_same_key_with_another_request_is_a_422(api):
    event_id = make_event()
    book(api, event_id, quantity=1, headers={"Idempotency-Key": "k-2"})

    response = book(api, event_id, quantity=2, headers={"Idempotency-Key": "k-2"})

    assert (response.status_code, response.json_body["code"]) == (422, "idempotency_key_reused")
    assert Ticket.count() == 1


def test_a_key_raced_by_a_parallel_attempt_replays_the_winner(api, monkeypatch):
    """The loser of two same-key attempts read no record, so its transaction (which creates
    the record on condition none exists) is refused; it then replays the winner's tickets."""
    from chalicelib.db import batch

    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=10)
    buyer = buyer_body()
    first = book(api, event_id, quantity=2, buyer=buyer, headers={"Idempotency-Key": "k-3"})
    real_get_items = batch.get_items
    reads = []

    def first_read_misses_the_record(keys):
        found = real_get_items(keys)
        reads.append(found)
        if len(reads) == 1:
            return [None if isinstance(i, IdempotencyRecord) else i for i in found]
        return found

    monkeypatch.setattr(batch, "get_items", first_read_misses_the_record)

    again = book(api, event_id, quantity=2, buyer=buyer, headers={"Idempotency-Key": "k-3"})

    assert again.status_code == 201
    assert [t["id"] for t in again.json_body["tickets"]] == [
        t["id"] for t in first.json_body["tickets"]
    ]
    assert len(reads) == 2
    assert pool(event_id, organizer.id) == (10, 2, 8)
    assert Ticket.count() == 2


def test_an_expired_key_books_again(api):
    event_id = make_event()
    buyer = buyer_body()
    book(api, event_id, buyer=buyer, headers={"Idempotency-Key": "k-4"})
    record = next(IdempotencyRecord.scan())
    # Expired but not yet swept by DynamoDB's TTL, which can lag by hours.
    record.update(actions=[IdempotencyRecord.expires_at.set(utcnow() - timedelta(seconds=1))])

    response = book(api, event_id, buyer=buyer, headers={"Idempotency-Key": "k-4"})

    assert response.status_code == 201
    assert Ticket.count() == 2
    assert IdempotencyRecord.get(record.key).expires_at > utcnow()


def test_a_failed_booking_frees_its_key_for_a_retry(api):
    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=1)
    book(api, event_id)
    buyer = buyer_body()

    sold_out = book(api, event_id, buyer=buyer, headers={"Idempotency-Key": "k-5"})
    api.put(f"/events/{event_id}", {"number_of_tickets": 2}, as_=organizer)
    retried = book(api, event_id, buyer=buyer, headers={"Idempotency-Key": "k-5"})

    assert sold_out.status_code == 409
    assert retried.status_code == 201


def test_idempotency_keys_are_scoped_to_the_caller(api):
    organizer = make_user("organizer")
    event_id = make_event(organizer)
    buyer = buyer_body()

    anonymous = book(api, event_id, buyer=buyer, headers={"Idempotency-Key": "shared"})
    seller = book(api, event_id, buyer=buyer, as_=organizer, headers={"Idempotency-Key": "shared"})

    assert anonymous.status_code == seller.status_code == 201
    assert anonymous.json_body["tickets"][0]["id"] != seller.json_body["tickets"][0]["id"]


def test_records_expire_after_24_hours(api):
    book(api, make_event(), headers={"Idempotency-Key": "k-6"})

    record = IdempotencyRecord.get("anonymous:k-6")

    assert (
        timedelta(hours=23, minutes=59)
        < record.expires_at - record.created_at
        <= timedelta(hours=24)
    )


def test_an_overlong_key_is_a_400(api):
    response = book(api, make_event(), headers={"Idempotency-Key": "k" * 256})

    assert response.status_code == 400
    assert Ticket.count() == 0


# --- faults --------------------------------------------------------------------------


def test_while_ses_fails_bookings_stand_and_their_confirmations_wait(api, monkeypatch):
    from chalicelib import aws

    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=5)
    ses = aws.client("ses")
    real_send = ses.send_raw_email

    def failing_send(**_):
        raise ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "SendRawEmail")

    monkeypatch.setattr(ses, "send_raw_email", failing_send)
    buyer = buyer_body()

    response = book(api, event_id, quantity=2, buyer=buyer, headers={"Idempotency-Key": "k-ses"})
    replay = book(api, event_id, quantity=2, buyer=buyer, headers={"Idempotency-Key": "k-ses"})

    assert (response.status_code, response.json_body["email"]) == (201, "queued")
    assert pool(event_id, organizer.id) == (5, 2, 3)
    assert (replay.status_code, replay.json_body["email"]) == (201, "queued")
    for _ in range(3):  # the stream hands the record back after each failure
        with pytest.raises(ClientError):
            drain_stream()
    monkeypatch.setattr(ses, "send_raw_email", real_send)
    drain_stream()  # SES is back: the waiting record goes through
    [confirmation] = [m for m in sent_emails() if buyer["email"] in m.to]
    assert len(confirmation.images) == 2


# --- listing and reading -------------------------------------------------------------


@pytest.fixture
def sales(api):
    """Two organizers' events, a reseller selling one of them, and some bookings."""
    org_a, org_b, reseller = make_user("organizer"), make_user("organizer"), make_user("reseller")
    event_a, event_b = make_event(org_a), make_event(org_b)
    api.put(f"/events/{event_a}/allocations/{reseller.id}", {"number_of_tickets": 10}, as_=org_a)
    ids = {
        "a_by_org": book(api, event_a).json_body["tickets"][0]["id"],
        "a_by_reseller": book(api, event_a, as_=reseller).json_body["tickets"][0]["id"],
        "b_by_org": book(api, event_b).json_body["tickets"][0]["id"],
    }
    return org_a, org_b, reseller, event_a, event_b, ids


def listed(api, user, query=""):
    response = api.get(f"/sold-tickets{query}", as_=user)
    assert response.status_code == 200, response.body
    return {t["id"] for t in response.json_body["tickets"]}


def test_sold_tickets_are_scoped_by_role(api, sales):
    org_a, org_b, reseller, event_a, _, ids = sales

    assert listed(api, admin_user()) == set(ids.values())
    assert listed(api, org_a) == {ids["a_by_org"], ids["a_by_reseller"]}
    assert listed(api, org_b) == {ids["b_by_org"]}
    assert listed(api, reseller) == {ids["a_by_reseller"]}
    assert listed(api, admin_user(), f"?event_id={event_a}") == {
        ids["a_by_org"],
        ids["a_by_reseller"],
    }
    assert listed(api, reseller, f"?event_id={event_a}") == {ids["a_by_reseller"]}


def test_an_organizer_cannot_filter_on_someone_elses_event(api, sales):
    org_a, _, _, _, event_b, _ = sales

    assert api.get(f"/sold-tickets?event_id={event_b}", as_=org_a).status_code == 403


def test_sold_tickets_are_paginated(api, sales):
    first = api.get("/sold-tickets?limit=2", as_=admin_user())
    second = api.get(
        f"/sold-tickets?limit=2&next_token={first.json_body['next_token']}", as_=admin_user()
    )

    seen = [t["id"] for t in first.json_body["tickets"] + second.json_body["tickets"]]
    assert len(seen) == len(set(seen)) == 3


def test_one_ticket_is_visible_to_admin_its_organizer_and_its_seller(api, sales):
    org_a, org_b, reseller, _, _, ids = sales
    ticket = ids["a_by_reseller"]

    for user in (admin_user(), org_a, reseller):
        response = api.get(f"/sold-tickets/{ticket}", as_=user)
        assert response.json_body["ticket"]["id"] == ticket
    assert api.get(f"/sold-tickets/{ticket}", as_=org_b).status_code == 403
    assert api.get(f"/sold-tickets/{ids['a_by_org']}", as_=reseller).status_code == 403
    assert api.get("/sold-tickets/nope", as_=admin_user()).status_code == 404


def test_admin_changes_a_tickets_buyer(api, sales):
    ids = sales[-1]
    new_buyer = buyer_body(email="new-owner@example.com")

    response = api.put(f"/sold-tickets/{ids['a_by_org']}", {"buyer": new_buyer}, as_=admin_user())

    assert response.status_code == 200
    buyer_id = response.json_body["ticket"]["buyer_id"]
    assert Buyer.get(buyer_id).email == "new-owner@example.com"
    assert Ticket.get(ids["a_by_org"]).buyer_id == buyer_id


def test_only_admins_change_or_cancel_tickets(api, sales):
    org_a, _, reseller, _, _, ids = sales

    for user in (org_a, reseller):
        assert (
            api.put(
                f"/sold-tickets/{ids['a_by_org']}", {"buyer": buyer_body()}, as_=user
            ).status_code
            == 403
        )
        assert api.delete(f"/sold-tickets/{ids['a_by_org']}", as_=user).status_code == 403
    assert Ticket.count() == 3


def test_cancelling_a_ticket_returns_its_seat_to_the_seller(api, sales):
    _, _, reseller, event_a, _, ids = sales

    response = api.delete(f"/sold-tickets/{ids['a_by_reseller']}", as_=admin_user())

    assert response.status_code == 204
    tombstone = Ticket.get(ids["a_by_reseller"])
    assert tombstone.cancelled_at is not None
    assert pool(event_a, reseller.id) == (10, 0, 10)
    again = api.delete(f"/sold-tickets/{ids['a_by_reseller']}", as_=admin_user())
    assert (again.status_code, again.json_body["code"]) == (409, "ticket_cancelled")
    assert pool(event_a, reseller.id) == (10, 0, 10)  # the seat came back once
    shown = api.get(f"/sold-tickets/{ids['a_by_reseller']}", as_=admin_user()).json_body
    assert shown["ticket"]["status"] == "cancelled"


def test_booking_response_body_is_json_with_the_tickets(api):
    response = book(api, make_event())

    assert json.loads(response.body)["tickets"][0]["event_id"]


def test_filtering_on_an_unknown_event_is_a_404_for_organizers(api):
    response = api.get("/sold-tickets?event_id=nope", as_=make_user("organizer"))

    assert (response.status_code, response.json_body["code"]) == (404, "not_found")
