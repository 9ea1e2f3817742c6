"""The on-sale queue: places from 16 counters, early places shuffled at opens_at, admission in
position order, one order per admission."""

from datetime import timedelta

import pytest

from chalicelib.db.base import utcnow
from chalicelib.db.queue_counters import COUNTERS, QueueCounter
from chalicelib.services.sales import onsale_queue
from tests.api.test_orders import place
from tests.conftest import admin_user, buyer_body, make_user


@pytest.fixture
def organizer(tables):
    return make_user("organizer", name="Venue")


@pytest.fixture
def clock(monkeypatch):
    """The queue's own clock (orders keep the real one)."""
    now = [utcnow()]
    monkeypatch.setattr(onsale_queue, "utcnow", lambda: now[0])
    onsale_queue._final_counts.clear()
    onsale_queue._recent_counts.forget()
    return now


def queued_event(api, organizer, opens_at, admit_per_second=2, capacity=100):
    queue = {"opens_at": opens_at.isoformat(), "admit_per_second": admit_per_second}
    body = {"title": "Hot", "time": (utcnow() + timedelta(days=10)).isoformat(), "price": "30",
            "currency_code": "GBP", "number_of_tickets": capacity, "queue": queue}  # fmt: skip
    response = api.post("/events", body, as_=organizer)
    assert response.status_code == 201, response.json_body
    return response.json_body["event"]


def join(api, event_id):
    response = api.post(f"/events/{event_id}/queue", {})
    assert response.status_code == 201, response.json_body
    return response.json_body


def status(api, token):
    response = api.get(f"/queue/{token}")
    assert response.status_code == 200, response.json_body
    return response.json_body


def order(api, event_id, admission=None, **kw):
    headers = {"X-Admission": admission} if admission else None
    return place(api, event_id, [{"quantity": 1}], headers=headers, **kw)


def test_an_event_shows_its_queue(api, organizer):
    opens = utcnow() + timedelta(hours=1)
    event = queued_event(api, organizer, opens, admit_per_second=50)

    assert event["queue"]["admit_per_second"] == 50
    assert event["queue"]["opens_at"].startswith(opens.strftime("%Y-%m-%dT%H:%M:%S"))
    quiet = {"title": "Quiet", "time": "2031-01-01T20:00:00Z", "price": "5",
             "currency_code": "GBP", "number_of_tickets": 5}  # fmt: skip
    plain = api.post("/events", quiet, as_=organizer)
    assert plain.json_body["event"]["queue"] is None
    assert api.post(f"/events/{plain.json_body['event']['id']}/queue", {}).json_body["code"] == (
        "no_queue"
    )


def test_early_places_are_shuffled_at_opens_at_and_late_ones_go_behind(api, organizer, clock):
    opens = clock[0] + timedelta(minutes=10)
    event = queued_event(api, organizer, opens, admit_per_second=1)
    early = [join(api, event["id"]) for _ in range(40)]
    assert {e["position"] for e in early} == {None}
    before = status(api, early[0]["queue_token"])
    assert (before["position"], before["admitted"], before["admission"]) == (None, False, None)
    assert 590 <= before["estimated_wait_s"] <= 600

    clock[0] = opens + timedelta(seconds=10)
    late = [join(api, event["id"]) for _ in range(5)]
    positions = [status(api, e["queue_token"])["position"] for e in early]

    assert sorted(positions) == list(range(1, 41))  # every early place, once
    assert positions != list(range(1, 41))  # not the order they came in
    assert all(p["position"] > 40 for p in late)
    assert len({p["position"] for p in late}) == 5
    # Counters of the early band: 40 places over 16 partition keys.
    keys = [f"{event['id']}#early#{k}" for k in range(COUNTERS)]
    counts = [c.taken for c in QueueCounter.batch_get(keys)]
    assert sum(counts) == 40 and len(counts) > 1


def test_positions_are_admitted_at_the_queues_rate(api, organizer, clock):
    opens = clock[0] + timedelta(minutes=1)
    event = queued_event(api, organizer, opens, admit_per_second=2)
    tokens = [join(api, event["id"])["queue_token"] for _ in range(10)]

    clock[0] = opens + timedelta(seconds=2.5)  # positions 1-5 admitted
    found = {status(api, t)["position"]: status(api, t) for t in tokens}

    assert {p for p, s in found.items() if s["admitted"]} == {1, 2, 3, 4, 5}
    assert all(s["admission"] for p, s in found.items() if p <= 5)
    assert found[10]["admission"] is None
    assert found[10]["estimated_wait_s"] == 3  # (10 - 5) / 2, rounded up


def test_from_opens_at_a_buyer_needs_an_admission_and_it_buys_once(api, organizer):
    event = queued_event(api, organizer, utcnow() - timedelta(seconds=30), admit_per_second=100)
    other = queued_event(api, organizer, utcnow() - timedelta(seconds=30), admit_per_second=100)
    admission = status(api, join(api, event["id"])["queue_token"])["admission"]
    foreign = status(api, join(api, other["id"])["queue_token"])["admission"]

    without = order(api, event["id"])
    garbage = order(api, event["id"], "not-an-admission")
    wrong_event = order(api, event["id"], foreign)
    bought = order(api, event["id"], admission)
    again = order(api, event["id"], admission)

    assert (without.status_code, without.json_body["code"]) == (403, "admission_required")
    assert (garbage.status_code, wrong_event.status_code) == (403, 403)
    assert bought.status_code == 201, bought.json_body
    assert (again.status_code, again.json_body["code"]) == (409, "admission_used")
    booked = api.post("/sold-tickets", {"event_id": event["id"], "buyer": buyer_body()})
    assert (booked.status_code, booked.json_body["code"]) == (403, "admission_required")
    # Sellers and admins record sales without the queue.
    assert order(api, event["id"], as_=organizer).status_code == 201
    assert order(api, event["id"], as_=admin_user()).status_code == 201
    counts = api.get(f"/events/{event['id']}").json_body["event"]
    assert counts["sold"] == 3


def test_an_order_retried_with_its_key_replays_instead_of_using_the_admission(api, organizer):
    event = queued_event(api, organizer, utcnow() - timedelta(seconds=30), admit_per_second=100)
    admission = status(api, join(api, event["id"])["queue_token"])["admission"]
    body = {"event_id": event["id"], "items": [{"quantity": 2}], "buyer": buyer_body()}
    headers = {"X-Admission": admission, "Idempotency-Key": "k1"}

    first = api.post("/orders", body, headers=headers)
    second = api.post("/orders", body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert first.json_body["order"]["id"] == second.json_body["order"]["id"]


def test_before_opens_at_orders_need_no_admission(api, organizer):
    event = queued_event(api, organizer, utcnow() + timedelta(hours=1))

    assert order(api, event["id"]).status_code == 201


@pytest.mark.parametrize(
    "token",
    ["nope", "q1.abc.early.1.1.AAAA", "q1." + "x" * 150, "a" * 199],
)
def test_a_token_that_is_not_a_place_is_400(api, organizer, token):
    answer = api.get(f"/queue/{token}")

    assert (answer.status_code, answer.json_body["code"]) == (400, "invalid_queue_token")


def test_a_tampered_place_is_400(api, organizer):
    event = queued_event(api, organizer, utcnow() - timedelta(seconds=1))
    token = join(api, event["id"])["queue_token"]
    version, event_id, band, counter, number, mac = token.split(".")

    forged = ".".join([version, event_id, band, counter, "1" if number != "1" else "2", mac])

    assert api.get(f"/queue/{forged}").json_body["code"] == "invalid_queue_token"


def test_the_queues_settings_are_checked_and_fixed_once_it_opens(api, organizer):
    soon = (utcnow() + timedelta(hours=1)).isoformat()
    late = (utcnow() + timedelta(days=30)).isoformat()
    base = {"title": "Hot", "time": (utcnow() + timedelta(days=10)).isoformat(), "price": "30",
            "currency_code": "GBP", "number_of_tickets": 10}  # fmt: skip
    for queue in ({"opens_at": late, "admit_per_second": 5},  # after the event
                  {"opens_at": soon, "admit_per_second": 0},
                  {"opens_at": soon, "admit_per_second": 100_001},
                  {"opens_at": soon}, {"opens_at": soon, "admit_per_second": 5, "x": 1},
                  {"opens_at": "nope", "admit_per_second": 5}):  # fmt: skip
        assert api.post("/events", {**base, "queue": queue}, as_=organizer).status_code == 400
    event = queued_event(api, organizer, utcnow() - timedelta(seconds=5))

    moved = api.put(f"/events/{event['id']}", {"queue": {"opens_at": soon, "admit_per_second": 2}},
                    as_=organizer)  # fmt: skip
    removed = api.put(f"/events/{event['id']}", {"queue": None}, as_=organizer)

    assert (moved.status_code, moved.json_body["code"]) == (409, "queue_open")
    assert removed.status_code == 200 and removed.json_body["event"]["queue"] is None
    assert order(api, event["id"]).status_code == 201  # no queue, no admission
    added = api.put(f"/events/{event['id']}", {"queue": {"opens_at": soon, "admit_per_second": 3}},
                    as_=organizer)  # fmt: skip
    assert added.json_body["event"]["queue"]["admit_per_second"] == 3


def test_the_shuffle_is_a_keyed_permutation():
    for size in (1, 2, 3, 7, 16, 100, 257):
        first = [onsale_queue.shuffled(i, size, b"key-one") for i in range(size)]
        assert sorted(first) == list(range(size))
    one = [onsale_queue.shuffled(i, 500, b"key-one") for i in range(500)]
    two = [onsale_queue.shuffled(i, 500, b"key-two") for i in range(500)]
    assert one != two
    with pytest.raises(ValueError):
        onsale_queue.shuffled(5, 5, b"k")


def test_polling_the_queue_does_not_read_the_event_each_time(api, organizer):
    from bench.meter import metered

    event = queued_event(api, organizer, utcnow() - timedelta(seconds=30), admit_per_second=1)
    tokens = [join(api, event["id"])["queue_token"] for _ in range(3)]

    with metered() as meter:
        for _ in range(20):
            for token in tokens:
                status(api, token)

    # At most one read of the event (cached 2 s per process) and one of the early counters
    # (final once the queue has been open 5 s): no hot key, however many poll.
    assert meter.cost.operations.count("GetItem") <= 1, meter.cost.operations
    assert len(meter.cost.operations) <= 2, meter.cost.operations
