"""Events: /events and /events/{id}."""

from datetime import timedelta
from urllib.parse import quote

import pytest

from chalicelib.db.allocations import Allocation
from chalicelib.db.base import utcnow
from chalicelib.db.events import Event
from chalicelib.db.tickets import Ticket
from tests.conftest import admin_user, buyer_body, make_event, make_user

EVENT_KEYS = {
    "id", "title", "time", "price", "currency_code", "number_of_tickets", "organizer_id",
    "cancellable_until",
    "created_at", "updated_at", "allocated", "sold", "available", "held", "payment", "queue",
    "hold_minutes", "waiting_list_hours", "stock_shards", "stock_lane_open",
}  # fmt: skip


def future(days=30):
    return (utcnow() + timedelta(days=days)).replace(microsecond=0)


def event_body(**overrides):
    return {
        "title": "A music concert",
        "price": "50",
        "currency_code": "GBP",
        "time": future().isoformat(),
        "number_of_tickets": 1000,
        **overrides,
    }


def book(api, event_id, quantity=1, **kw):
    return api.post(
        "/sold-tickets", {"event_id": event_id, "quantity": quantity, "buyer": buyer_body(), **kw}
    )


# --- creating ------------------------------------------------------------------------


def test_organizer_creates_an_event_with_all_tickets_in_their_own_pool(api):
    organizer = make_user("organizer")

    response = api.post("/events", event_body(), as_=organizer)

    assert response.status_code == 201
    event = response.json_body["event"]
    assert set(event) == EVENT_KEYS
    assert (event["organizer_id"], event["price"], event["currency_code"]) == (
        organizer.id,
        "50.00",
        "GBP",
    )
    assert (event["allocated"], event["sold"], event["available"]) == (0, 0, 1000)
    pool = Allocation.get(event["id"], organizer.id)
    assert (pool.number_of_tickets, pool.available, pool.on_sale) == (1000, 1000, True)
    assert Event.get(event["id"]).price_minor == 5000


def test_the_original_readme_event_body_works_with_a_future_date(api):
    organizer = make_user("organizer")
    body = event_body(time=future(400).date().isoformat(), price="50")

    response = api.post("/events", body, as_=organizer)

    assert response.status_code == 201
    assert response.json_body["event"]["time"].endswith("T00:00:00Z")


def test_times_are_stored_and_returned_in_utc(api):
    organizer = make_user("organizer")
    local = (future() + timedelta(hours=5)).replace(tzinfo=None).isoformat() + "+02:00"

    response = api.post("/events", event_body(time=local), as_=organizer)

    assert response.json_body["event"]["time"].endswith("Z")


def test_admin_creates_an_event_for_an_organizer(api):
    organizer = make_user("organizer")

    response = api.post("/events", event_body(organizer_id=organizer.id), as_=admin_user())

    assert response.status_code == 201
    assert response.json_body["event"]["organizer_id"] == organizer.id


def test_admin_must_name_an_organizer_who_is_one(api):
    reseller = make_user("reseller")

    missing = api.post("/events", event_body(), as_=admin_user())
    wrong = api.post("/events", event_body(organizer_id=reseller.id), as_=admin_user())

    assert (missing.status_code, wrong.status_code) == (400, 400)
    assert "organizer_id" in wrong.json_body["details"]
    assert Event.count() == 0


def test_organizer_cannot_create_for_another_organizer(api):
    organizer, other = make_user("organizer"), make_user("organizer")

    response = api.post("/events", event_body(organizer_id=other.id), as_=organizer)

    assert response.status_code == 403
    assert Event.count() == 0


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"time": "2020-01-01"}, "time"),
        ({"time": "next friday"}, "time"),
        ({"time": 1700000000}, "time"),
        # Valid strings whose UTC time falls outside what datetime holds (once a 500).
        ({"time": "0001-01-01T00:00:00+14:00"}, "time"),
        ({"time": "9999-12-31T23:59:59-14:00"}, "time"),
        ({"time": "9000-01-01T00:00:00Z"}, "time"),
        ({"title": "Concert\nClick http://evil.example to claim a refund"}, "title"),
        ({"title": "Concert\u2028second line"}, "title"),
        ({"title": "evil\u202egpj.exe"}, "title"),
        ({"title": "tab\there"}, "title"),
        ({"price": "-1"}, "price"),
        ({"price": "12.345"}, "price"),
        ({"price": 50}, "price"),
        ({"price": "1.5", "currency_code": "JPY"}, "price"),
        ({"currency_code": "ZZZ"}, "currency_code"),
        ({"currency_code": "gbp"}, "currency_code"),
        ({"number_of_tickets": 0}, "number_of_tickets"),
        ({"number_of_tickets": -5}, "number_of_tickets"),
        ({"number_of_tickets": 1_000_001}, "number_of_tickets"),
        ({"number_of_tickets": "100"}, "number_of_tickets"),
        ({"number_of_tickets": 10.5}, "number_of_tickets"),
        ({"number_of_tickets": True}, "number_of_tickets"),
        ({"venue": "extra"}, "venue"),
    ],
)
def test_invalid_event_is_a_400_naming_the_field_and_writes_nothing(api, override, field):
    response = api.post("/events", event_body(**override), as_=make_user("organizer"))

    assert response.status_code == 400
    assert field in response.json_body["details"]
    assert Event.count() == 0
    assert Allocation.count("x") == 0


def test_resellers_and_anonymous_cannot_create_events(api):
    assert api.post("/events", event_body(), as_=make_user("reseller")).status_code == 403
    assert api.post("/events", event_body()).status_code == 401


# --- reading -------------------------------------------------------------------------


def test_anyone_reads_an_event_with_its_counts(api):
    event_id = make_event(number_of_tickets=10)
    book(api, event_id, quantity=3)

    response = api.get(f"/events/{event_id}")

    assert response.status_code == 200
    event = response.json_body["event"]
    assert (event["sold"], event["available"], event["allocated"]) == (3, 7, 0)


def test_unknown_event_is_a_404(api):
    response = api.get("/events/nope")

    assert (response.status_code, response.json_body["code"]) == (404, "not_found")


def test_events_are_listed_in_time_order_page_by_page(api):
    ids = [make_event(days=d) for d in (30, 10, 20)]

    first = api.get("/events?limit=2")
    second = api.get(f"/events?limit=2&next_token={first.json_body['next_token']}")

    listed = [e["id"] for e in first.json_body["events"] + second.json_body["events"]]
    assert listed == [ids[1], ids[2], ids[0]]


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1969-12-31"]
)
def test_time_filters_out_of_range_are_a_400(api, value):
    response = api.get(f"/events?from={quote(value)}")

    assert response.status_code == 400
    assert "from" in response.json_body["details"]


def test_events_filtered_by_organizer_and_time_range(api):
    organizer = make_user("organizer")
    soon = make_event(organizer, days=5)
    later = make_event(organizer, days=50)
    make_event(days=6)

    mine = api.get(f"/events?organizer_id={organizer.id}")
    window = api.get(
        f"/events?from={quote(future(4).isoformat())}&to={quote(future(7).isoformat())}"
    )
    mine_later = api.get(f"/events?organizer_id={organizer.id}&from={future(10).date()}")

    assert [e["id"] for e in mine.json_body["events"]] == [soon, later]
    assert len(window.json_body["events"]) == 2
    assert soon in [e["id"] for e in window.json_body["events"]]
    assert [e["id"] for e in mine_later.json_body["events"]] == [later]


@pytest.mark.parametrize("query", ["from=yesterday", "to=2027-13-01", "limit=500"])
def test_bad_event_filters_are_a_400(api, query):
    assert api.get(f"/events?{query}").status_code == 400


# --- updating ------------------------------------------------------------------------


def test_owner_updates_any_subset_of_fields(api):
    organizer = make_user("organizer")
    event_id = make_event(organizer)

    response = api.put(f"/events/{event_id}", {"title": "Renamed", "price": "63.72"}, as_=organizer)

    assert response.status_code == 200
    assert (response.json_body["event"]["title"], response.json_body["event"]["price"]) == (
        "Renamed",
        "63.72",
    )


def test_changing_currency_keeps_the_price_when_it_fits(api):
    organizer = make_user("organizer")
    event_id = make_event(organizer, price="63.72")

    to_jpy = api.put(f"/events/{event_id}", {"currency_code": "JPY"}, as_=organizer)
    to_eur = api.put(f"/events/{event_id}", {"currency_code": "EUR"}, as_=organizer)

    assert to_jpy.status_code == 400  # JPY has no minor unit for the .72
    assert "price" in to_jpy.json_body["details"]
    assert (to_eur.json_body["event"]["price"], to_eur.json_body["event"]["currency_code"]) == (
        "63.72",
        "EUR",
    )


def test_resizing_moves_tickets_in_and_out_of_the_organizer_pool(api):
    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=100)

    bigger = api.put(f"/events/{event_id}", {"number_of_tickets": 150}, as_=organizer)
    smaller = api.put(f"/events/{event_id}", {"number_of_tickets": 80}, as_=organizer)

    assert bigger.json_body["event"]["available"] == 150
    assert smaller.json_body["event"]["number_of_tickets"] == 80
    pool = Allocation.get(event_id, organizer.id)
    assert (pool.number_of_tickets, pool.available) == (80, 80)


def test_tickets_cannot_go_below_allocated_plus_organizer_sold(api):
    organizer, reseller = make_user("organizer"), make_user("reseller")
    event_id = make_event(organizer, number_of_tickets=100)
    api.put(
        f"/events/{event_id}/allocations/{reseller.id}", {"number_of_tickets": 60}, as_=organizer
    )
    book(api, event_id, quantity=10)

    refused = api.put(f"/events/{event_id}", {"number_of_tickets": 69}, as_=organizer)
    allowed = api.put(f"/events/{event_id}", {"number_of_tickets": 70}, as_=organizer)

    assert refused.status_code == 409
    assert refused.json_body["code"] == "below_committed_tickets"
    assert allowed.status_code == 200
    assert Allocation.get(event_id, organizer.id).available == 0


def test_another_organizers_event_is_a_403(api):
    event_id = make_event()

    response = api.put(f"/events/{event_id}", {"title": "Mine now"}, as_=make_user("organizer"))

    assert response.status_code == 403
    assert Event.get(event_id).title == "A music concert"


def test_admin_updates_any_event(api):
    event_id = make_event()

    assert (
        api.put(f"/events/{event_id}", {"title": "By admin"}, as_=admin_user()).status_code == 200
    )


@pytest.mark.parametrize(
    "body",
    [{}, {"time": "2001-01-01"}, {"number_of_tickets": 0}, {"organizer_id": "x"}, {"title": None},
     {"cancellable_until": "2999-01-01"}, {"cancellable_until": "soon"}],
)  # fmt: skip
def test_invalid_updates_are_a_400_and_change_nothing(api, body):
    organizer = make_user("organizer")
    event_id = make_event(organizer)
    before = Event.get(event_id)

    response = api.put(f"/events/{event_id}", body, as_=organizer)

    assert response.status_code == 400
    after = Event.get(event_id)
    assert (after.title, after.time, after.number_of_tickets) == (
        before.title,
        before.time,
        before.number_of_tickets,
    )


# --- deleting ------------------------------------------------------------------------


def test_owner_deletes_an_unsold_event_and_its_allocations(api):
    organizer, reseller = make_user("organizer"), make_user("reseller")
    event_id = make_event(organizer)
    api.put(
        f"/events/{event_id}/allocations/{reseller.id}", {"number_of_tickets": 5}, as_=organizer
    )

    response = api.delete(f"/events/{event_id}", as_=organizer)

    assert response.status_code == 204
    assert Event.count(event_id) == 0
    assert Allocation.count(event_id) == 0


def test_an_event_with_sales_is_kept_unless_an_admin_forces(api):
    organizer = make_user("organizer")
    event_id = make_event(organizer)
    book(api, event_id, quantity=2)

    by_owner = api.delete(f"/events/{event_id}", as_=organizer)
    owner_force = api.delete(f"/events/{event_id}?force=true", as_=organizer)
    by_admin = api.delete(f"/events/{event_id}", as_=admin_user())

    assert (by_owner.status_code, by_owner.json_body["code"]) == (409, "event_has_sales")
    assert owner_force.status_code == 403
    assert by_admin.status_code == 409
    assert Event.count(event_id) == 1
    assert Ticket.count() == 2


def test_admin_force_deletes_an_event_with_its_sold_tickets(api):
    event_id = make_event()
    book(api, event_id, quantity=3)

    response = api.delete(f"/events/{event_id}?force=true", as_=admin_user())

    assert response.status_code == 204
    assert (Event.count(event_id), Allocation.count(event_id), Ticket.count()) == (0, 0, 0)
    assert book(api, event_id).status_code == 404


def test_deleting_someone_elses_or_unknown_event(api):
    event_id = make_event()

    assert api.delete(f"/events/{event_id}", as_=make_user("organizer")).status_code == 403
    assert api.delete(f"/events/{event_id}", as_=make_user("reseller")).status_code == 403
    assert api.delete("/events/nope", as_=admin_user()).status_code == 404
    assert Event.count(event_id) == 1


# --- buyers' cancellation window -------------------------------------------------------


def test_an_event_sets_and_clears_until_when_buyers_may_cancel(api):
    organizer = make_user("organizer")
    until = future() - timedelta(days=1)
    created = api.post(
        "/events", event_body(cancellable_until=until.isoformat()), as_=organizer
    ).json_body["event"]
    path = f"/events/{created['id']}"

    moved = api.put(
        path, {"cancellable_until": (until - timedelta(days=1)).isoformat()}, as_=organizer
    )
    cleared = api.put(path, {"cancellable_until": None}, as_=organizer)
    renamed = api.put(path, {"title": "Renamed"}, as_=organizer)

    assert created["cancellable_until"].startswith(until.strftime("%Y-%m-%dT%H:%M"))
    assert moved.json_body["event"]["cancellable_until"] < created["cancellable_until"]
    assert cleared.json_body["event"]["cancellable_until"] is None
    assert renamed.json_body["event"]["cancellable_until"] is None
    assert Event.get(created["id"]).cancellable_until is None


def test_the_window_cannot_end_after_the_event(api):
    organizer = make_user("organizer")
    time = future()
    late = event_body(
        time=time.isoformat(), cancellable_until=(time + timedelta(hours=1)).isoformat()
    )

    answer = api.post("/events", late, as_=organizer)

    assert (answer.status_code, set(answer.json_body["details"])) == (400, {"cancellable_until"})
    event_id = api.post(
        "/events",
        event_body(time=time.isoformat(), cancellable_until=time.isoformat()),
        as_=organizer,
    ).json_body["event"]["id"]
    earlier = api.put(
        f"/events/{event_id}", {"time": (time - timedelta(days=1)).isoformat()}, as_=organizer
    )
    assert (earlier.status_code, set(earlier.json_body["details"])) == (400, {"cancellable_until"})
