"""The waiting list: returned stock offered in queue order, from the event stream."""

import re
from datetime import timedelta

import pytest

from chalicelib.db.base import utcnow
from chalicelib.db.orders import Order
from chalicelib.db.ticket_types import TicketType
from chalicelib.db.waiting_list import WaitingEntry, entry_id
from chalicelib.services.sales import orders
from tests.api.test_orders import new_event, place
from tests.conftest import admin_user, buyer_body, drain_stream, make_user, sent_emails
from tests.stripe_fake import card_token


@pytest.fixture
def organizer(tables):
    return make_user("organizer", name="Venue")


def join(api, event_id, quantity, *, email=None, type_id=None):
    body = {"ticket_type_id": type_id or event_id, "quantity": quantity,
            "buyer": buyer_body(email=email)}  # fmt: skip
    return api.post(f"/events/{event_id}/waiting-list", body)


def entries(api, event_id, caller):
    response = api.get(f"/events/{event_id}/waiting-list", as_=caller)
    assert response.status_code == 200, response.json_body
    return response.json_body["entries"]


def waiting_of(event_id):
    return TicketType.get(event_id, event_id, consistent_read=True).waiting


def sold_out(api, organizer, capacity=5, **settings):
    """An online event whose tickets are all held by one reserved order (returned below)."""
    event_id = new_event(api, organizer, payment="online", capacity=capacity, **settings)
    placed = place(api, event_id, [{"quantity": capacity}]).json_body
    return event_id, placed


def emails_to(address):
    return [m for m in sent_emails() if address in m.to]


def test_joining_is_for_tickets_that_cannot_be_ordered_now(api, organizer):
    offline = new_event(api, organizer)
    online = new_event(api, organizer, payment="online", capacity=3)

    assert join(api, offline, 1).json_body["code"] == "waiting_list_online_only"
    available = join(api, online, 2)
    assert (available.status_code, available.json_body["code"]) == (409, "tickets_available")
    assert join(api, online, 4).status_code == 202  # more than there is: may wait
    assert join(api, online, 11).status_code == 400  # above max_per_order
    assert join(api, online, 1, type_id="nope").status_code == 404
    body = {"ticket_type_id": "x", "quantity": 1, "buyer": buyer_body()}
    assert api.post("/events/nope/waiting-list", body).status_code == 404


def test_joining_twice_answers_the_same_and_keeps_one_entry(api, organizer):
    event_id, _ = sold_out(api, organizer)
    email = "twice@example.com"

    first, second = join(api, event_id, 2, email=email), join(api, event_id, 3, email=email)

    assert first.status_code == second.status_code == 202
    assert first.json_body == second.json_body
    [entry] = entries(api, event_id, organizer)
    assert (entry["quantity"], entry["status"], entry["buyer"]["email"]) == (2, "waiting", email)
    assert waiting_of(event_id) == 1
    [confirmation] = emails_to(email)
    assert "/waiting-list/" in confirmation.body


def test_while_anyone_waits_nobody_else_can_order_the_type(api, organizer):
    event_id, placed = sold_out(api, organizer, capacity=4)
    join(api, event_id, 3)
    # One seat comes back: it does not cover the first entry's 3, so it waits for more...
    api.post(f"/orders/{placed['order']['id']}/cancel", as_=placed["order_token"])
    refused = place(api, event_id, [{"quantity": 1}])
    own_sale = place(api, event_id, [{"quantity": 1}], as_=organizer)

    assert refused.status_code == own_sale.status_code == 409
    assert refused.json_body["error"] == "Event sold out."
    listed = api.get(f"/events/{event_id}/ticket-types").json_body["ticket_types"][0]
    assert listed["available"] == 0


def test_returned_seats_go_to_the_first_entries_they_cover_in_order(api, organizer):
    # A 5-seat event sold out (3 + 2), 8 people waiting with 1-3 tickets each.
    event_id = new_event(api, organizer, payment="online", capacity=5)
    three = place(api, event_id, [{"quantity": 3}]).json_body
    place(api, event_id, [{"quantity": 2}])
    quantities = [2, 3, 1, 1, 2, 3, 1, 2]
    emails = [f"wait{i}@example.com" for i in range(8)]
    for quantity, email in zip(quantities, emails, strict=True):
        assert join(api, event_id, quantity, email=email).status_code == 202
    drain_stream()

    api.post(f"/orders/{three['order']['id']}/cancel", as_=three["order_token"])
    drain_stream()

    listed = entries(api, event_id, organizer)
    assert [e["buyer"]["email"] for e in listed] == emails  # queue order
    statuses = [e["status"] for e in listed]
    # 3 seats: the first entry's 2 are offered; the next wants 3, so the last seat waits.
    assert statuses == ["offered"] + ["waiting"] * 7
    offer = Order.get(listed[0]["order_id"])
    assert (offer.status, offer.quantity, offer.waiting_entry_id) == ("reserved", 2,
                                                                       listed[0]["id"])  # fmt: skip
    assert offer.expires_at - offer.created_at == timedelta(hours=24)
    assert place(api, event_id, [{"quantity": 1}]).status_code == 409
    [mail] = [m for m in emails_to(emails[0]) if "held for you" in m.subject]
    link = re.search(r"/orders/\w+/pay\?token=[\w.-]+", mail.body).group(0)
    assert api.http.get(link).status_code == 200  # the checkout page opens


def test_a_lapsed_offer_passes_its_seats_to_the_next_entries(api, organizer):
    event_id, placed = sold_out(api, organizer, capacity=5, hold_minutes=5)
    api.put(f"/events/{event_id}", {"waiting_list_hours": 1}, as_=organizer)
    join(api, event_id, 5, email="first@example.com")
    join(api, event_id, 2, email="second@example.com")
    join(api, event_id, 3, email="third@example.com")
    orders.sweep(utcnow() + timedelta(minutes=10))  # the sold-out hold ends: 5 seats back
    drain_stream()
    first = [e for e in entries(api, event_id, organizer) if e["status"] == "offered"]
    assert [e["buyer"]["email"] for e in first] == ["first@example.com"]

    orders.sweep(utcnow() + timedelta(hours=2))  # the offer lapses unpaid
    drain_stream()

    by_email = {e["buyer"]["email"]: e for e in entries(api, event_id, organizer)}
    assert by_email["first@example.com"]["status"] == "lapsed"
    assert by_email["second@example.com"]["status"] == "offered"
    assert by_email["third@example.com"]["status"] == "offered"
    assert waiting_of(event_id) == 0
    assert Order.get(placed["order"]["id"]).status == "expired"


def test_paying_an_offer_claims_the_entry(api, organizer):
    event_id, placed = sold_out(api, organizer, capacity=2)
    email = "claim@example.com"
    join(api, event_id, 2, email=email)
    api.post(f"/orders/{placed['order']['id']}/cancel", as_=placed["order_token"])
    drain_stream()
    entry = WaitingEntry.get(entry_id(event_id, event_id, email))
    offer_mail = next(m for m in emails_to(email) if "held" in m.subject)
    token = re.search(r"token=([\w.-]+)", offer_mail.body).group(1)

    paid = api.post(f"/orders/{entry.order_id}/pay", {"card_token": card_token()}, as_=token)

    assert paid.status_code == 200, paid.json_body
    assert paid.json_body["order"]["status"] == "paid"
    entry.refresh()
    assert entry.status == "claimed"


def test_leaving_by_the_emailed_link_frees_the_queue(api, organizer):
    event_id, placed = sold_out(api, organizer, capacity=2)
    first, second = "leaving@example.com", "staying@example.com"
    join(api, event_id, 2, email=first)
    join(api, event_id, 1, email=second)
    mail = emails_to(first)[0]
    entry, token = re.search(r"/waiting-list/(\w+)\?token=([\w.-]+)", mail.body).groups()
    stranger = make_user("organizer")

    assert api.delete(f"/waiting-list/{entry}", as_=stranger).status_code == 403
    assert api.delete(f"/waiting-list/{entry}", as_=token).status_code == 204
    assert api.delete(f"/waiting-list/{entry}", as_=token).status_code == 204  # twice: same
    assert api.get(f"/events/{event_id}/waiting-list", as_=token).status_code == 403
    api.post(f"/orders/{placed['order']['id']}/cancel", as_=placed["order_token"])
    drain_stream()

    statuses = {e["buyer"]["email"]: e["status"] for e in entries(api, event_id, organizer)}
    assert statuses == {first: "left", second: "offered"}


def test_an_organizer_removing_an_offered_entry_passes_its_seats_on(api, organizer):
    event_id, placed = sold_out(api, organizer, capacity=2)
    join(api, event_id, 2, email="a@example.com")
    join(api, event_id, 2, email="b@example.com")
    api.post(f"/orders/{placed['order']['id']}/cancel", as_=placed["order_token"])
    drain_stream()
    offered = entries(api, event_id, organizer)[0]

    assert api.delete(f"/waiting-list/{offered['id']}", as_=admin_user()).status_code == 204
    drain_stream()

    listed = {e["buyer"]["email"]: e for e in entries(api, event_id, organizer)}
    assert listed["a@example.com"]["status"] == "left"
    assert Order.get(offered["order_id"]).status == "cancelled"
    assert listed["b@example.com"]["status"] == "offered"


def test_only_the_organizer_and_admins_read_the_list(api, organizer):
    event_id, _ = sold_out(api, organizer)

    assert api.get(f"/events/{event_id}/waiting-list").status_code == 401
    for stranger in (make_user("organizer"), make_user("reseller")):
        assert api.get(f"/events/{event_id}/waiting-list", as_=stranger).status_code == 403
    assert entries(api, event_id, admin_user()) == []


def test_the_emailed_link_opens_a_page_whose_button_leaves_the_list(api, organizer):
    event_id, _ = sold_out(api, organizer)
    join(api, event_id, 2, email="page@example.com")
    link = re.search(r"https?://\S+/waiting-list/\S+", emails_to("page@example.com")[0].body)
    path = "/" + link.group(0).split("/", 3)[3]
    entry, token = re.search(r"/waiting-list/(\w+)\?token=([\w.-]+)", path).groups()

    page = api.http.get(path)
    forged = api.http.get(f"/waiting-list/{entry}?token=nope")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    posted = api.http.post(f"/waiting-list/{entry}/leave", body=f"token={token}", headers=form)

    assert page.status_code == 200 and b"Leave the waiting list" in page.body
    assert page.headers["Content-Type"].startswith("text/html")
    assert forged.status_code == 400
    assert posted.status_code == 200 and b"You left" in posted.body
    assert WaitingEntry.get(entry).status == "left"
    assert waiting_of(event_id) == 0
    other = join(api, event_id, 1, email="other@example.com")
    assert other.status_code == 202
    other_id = entry_id(event_id, event_id, "other@example.com")
    wrong = api.post(f"/waiting-list/{other_id}/leave", {"token": token})  # another entry's
    assert (wrong.status_code, wrong.json_body["code"]) == (400, "invalid_link")


def test_the_report_counts_who_waits(api, organizer):
    event_id, _ = sold_out(api, organizer)
    join(api, event_id, 1)
    join(api, event_id, 2)

    report = api.get(f"/events/{event_id}/report", as_=organizer).json_body["report"]

    assert report["ticket_types"][0]["waiting"] == report["waiting"] == 2


def test_priority_goes_first_then_first_come(api, organizer):
    # Capacity 4 sold out; a, b, c wait for 2 each. The organizer moves c up: the first 2
    # seats back go to c, the next 2 to a; b, who came before c, keeps its place after a.
    event_id = new_event(api, organizer, payment="online", capacity=4)
    first = place(api, event_id, [{"quantity": 2}]).json_body
    second = place(api, event_id, [{"quantity": 2}]).json_body
    for name in "abc":
        join(api, event_id, 2, email=f"{name}@example.com")
    ids = {e["buyer"]["email"][0]: e["id"] for e in entries(api, event_id, organizer)}

    moved = api.put(f"/waiting-list/{ids['c']}", {"priority": 10}, as_=organizer)

    assert moved.status_code == 200, moved.json_body
    assert (moved.json_body["entry"]["priority"], moved.json_body["entry"]["status"]) == (
        10, "waiting")  # fmt: skip
    listed = entries(api, event_id, organizer)
    assert [e["buyer"]["email"][0] for e in listed] == ["c", "a", "b"]
    assert [e["priority"] for e in listed] == [10, 0, 0]
    for placed in (first, second):
        api.post(f"/orders/{placed['order']['id']}/cancel", as_=placed["order_token"])
        drain_stream()
    statuses = {e["buyer"]["email"][0]: e["status"] for e in entries(api, event_id, organizer)}
    assert statuses == {"c": "offered", "a": "offered", "b": "waiting"}


def test_a_new_head_of_the_queue_gets_the_stock_that_waited_for_more(api, organizer):
    event_id = new_event(api, organizer, payment="online", capacity=3)
    place(api, event_id, [{"quantity": 2}])
    one = place(api, event_id, [{"quantity": 1}]).json_body
    join(api, event_id, 3, email="big@example.com")
    join(api, event_id, 1, email="small@example.com")
    ids = {e["buyer"]["email"]: e["id"] for e in entries(api, event_id, organizer)}
    api.post(f"/orders/{one['order']['id']}/cancel", as_=one["order_token"])
    drain_stream()  # 1 seat back: it does not cover the head's 3, so it waits
    assert {e["status"] for e in entries(api, event_id, organizer)} == {"waiting"}

    api.put(f"/waiting-list/{ids['small@example.com']}", {"priority": 1}, as_=organizer)
    drain_stream()

    statuses = {e["buyer"]["email"]: e["status"] for e in entries(api, event_id, organizer)}
    assert statuses == {"small@example.com": "offered", "big@example.com": "waiting"}
    refused = api.put(f"/waiting-list/{ids['small@example.com']}", {"priority": 2}, as_=organizer)
    assert (refused.status_code, refused.json_body["code"]) == (409, "entry_not_waiting")


def test_priority_is_the_organizers_to_set(api, organizer):
    event_id, _ = sold_out(api, organizer)
    join(api, event_id, 1, email="me@example.com")
    entry, token = re.search(r"/waiting-list/(\w+)\?token=([\w.-]+)",
                             emails_to("me@example.com")[0].body).groups()  # fmt: skip

    assert api.put(f"/waiting-list/{entry}", {"priority": 100}, as_=token).status_code == 403
    assert api.put(f"/waiting-list/{entry}", {"priority": 1},
                   as_=make_user("organizer")).status_code == 403  # fmt: skip
    assert api.put(f"/waiting-list/{entry}", {"priority": 1}).status_code == 401
    for bad in (
        {"priority": 101},
        {"priority": -1},
        {"priority": "1"},
        {"priority": 1.5},
        {},
        {"priority": 1, "extra": 1},
    ):
        assert api.put(f"/waiting-list/{entry}", bad, as_=organizer).status_code == 400, bad
    assert api.put("/waiting-list/nope", {"priority": 1}, as_=organizer).status_code == 404
    assert api.put(f"/waiting-list/{entry}", {"priority": 7}, as_=admin_user()).status_code == 200
    [listed] = entries(api, event_id, organizer)
    assert listed["priority"] == 7
    actions = [e["action"] for e in api.get("/audit-log", as_=admin_user()).json_body["entries"]]
    assert "waiting_list.prioritised" in actions
