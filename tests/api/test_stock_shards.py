"""Sharded stock through the API: `stock_shards` on an event, orders spread over the shards,
counts that are the sums, every way stock comes back, and who may collapse a lane."""

from collections import Counter
from datetime import timedelta

import pytest

from chalicelib.db.allocations import Allocation
from chalicelib.db.base import utcnow
from chalicelib.db.events import Event
from chalicelib.db.orders import Order
from chalicelib.db.tickets import Ticket
from chalicelib.services.sales import stock_shards
from tests.api.test_orders import add_vip, place
from tests.conftest import admin_user, buyer_body, event_items, make_user


@pytest.fixture
def organizer(tables):
    return make_user("organizer", name="Venue")


def sharded_event(api, organizer, *, shards=4, capacity=200, payment="offline"):
    body = {"title": "Hot show", "time": (utcnow() + timedelta(days=10)).isoformat(),
            "price": "40", "currency_code": "GBP", "number_of_tickets": capacity,
            "payment": payment, "stock_shards": shards}  # fmt: skip
    response = api.post("/events", body, as_=organizer)
    assert response.status_code == 201, response.json_body
    return response.json_body["event"]


def event_counts(api, event_id):
    event = api.get(f"/events/{event_id}").json_body["event"]
    return event["sold"], event["held"], event["available"]


def in_shards(event_id):
    """How many tickets of the organizer's pool wait in the shards (not in the base)."""
    event = Event.get(event_id, consistent_read=True)
    return stock_shards.totals(event_id, int(event.stock_shard_items or 0)).pool.get("available", 0)


def test_an_event_split_into_shards_shows_the_sums_and_spreads_its_orders(api, organizer):
    event = sharded_event(api, organizer)
    assert (event["stock_shards"], event["stock_lane_open"], event["available"]) == (4, True, 200)
    base = Allocation.get(event["id"], organizer.id, consistent_read=True)
    assert base.available == 0 and in_shards(event["id"]) == 200

    for n in range(24):
        response = place(api, event["id"], [{"quantity": 2}], buyer=buyer_body(f"b{n}@example.com"))
        assert response.status_code == 201, response.json_body

    assert event_counts(api, event["id"]) == (48, 0, 152)
    spread = Counter(o.stock_shard for o in event_items(Order, event["id"]))
    assert len(spread) >= 3 and None not in spread  # 24 random picks of 4
    (listed,) = api.get(f"/events/{event['id']}/ticket-types").json_body["ticket_types"]
    assert listed["available"] == 152
    listing = api.get("/events").json_body["events"]
    assert next(e for e in listing if e["id"] == event["id"])["sold"] == 48
    report = api.get(f"/events/{event['id']}/report", as_=organizer).json_body["report"]
    assert report["totals"]["sold"] == 48


def test_cancelled_tickets_and_ended_holds_come_back_through_the_base(api, organizer):
    event = sharded_event(api, organizer, payment="online")
    held = place(api, event["id"], [{"quantity": 3}]).json_body["order"]
    sold = place(api, event["id"], [{"quantity": 2}], as_=organizer).json_body["order"]
    assert event_counts(api, event["id"]) == (2, 3, 195)

    assert api.post(f"/orders/{held['id']}/cancel", {}, as_=organizer).status_code == 200
    ticket = sold["tickets"][0]
    assert api.delete(f"/sold-tickets/{ticket['id']}", as_=admin_user()).status_code in (200, 204)

    assert event_counts(api, event["id"]) == (1, 0, 199)
    base = Allocation.get(event["id"], organizer.id, consistent_read=True)
    assert base.available == 4  # what came back waits in the base for the fallover and tail
    assert Ticket.get(ticket["id"]).stock_shard == Order.get(sold["id"]).stock_shard


def test_a_type_too_small_to_split_sells_from_the_base_in_the_same_order(api, organizer):
    event = sharded_event(api, organizer)
    vip = add_vip(api, event["id"], organizer, quantity=6)  # under 4 a shard: not in the lane
    lane = Event.get(event["id"], consistent_read=True)
    assert lane.stock_lane_open and set(lane.stock_lane_types) == {event["id"]}

    response = place(api, event["id"], [{"ticket_type_id": event["id"], "quantity": 1},
                                        {"ticket_type_id": vip, "quantity": 2}])  # fmt: skip

    assert response.status_code == 201, response.json_body
    order = Order.get(response.json_body["order"]["id"])
    assert order.stock_shard is not None and order.stock_shard_types == {event["id"]}
    types = {t["id"]: t for t in api.get(f"/events/{event['id']}/ticket-types").json_body[
        "ticket_types"]}  # fmt: skip
    assert types[vip]["available"] == 4 and types[event["id"]]["available"] == 197


def test_selling_out_a_sharded_event_sells_every_ticket(api, organizer):
    event = sharded_event(api, organizer, shards=4, capacity=40)
    sold = 0
    for n in range(60):
        response = place(api, event["id"], [{"quantity": 3 if n < 10 else 1}],
                         buyer=buyer_body(f"t{n}@example.com"))  # fmt: skip
        if response.status_code == 409:
            assert response.json_body["code"] == "sold_out"
            continue
        assert response.status_code == 201, response.json_body
        sold += response.json_body["order"]["items"][0]["quantity"]
    assert sold == 40 and event_counts(api, event["id"]) == (40, 0, 0)
    assert not Event.get(event["id"], consistent_read=True).stock_lane_open  # the tail collapsed


def test_the_organizer_changes_the_number_of_shards(api, organizer):
    event = sharded_event(api, organizer)
    place(api, event["id"], [{"quantity": 5}])

    more = api.put(f"/events/{event['id']}", {"stock_shards": 16}, as_=organizer)
    assert more.status_code == 200, more.json_body
    assert (more.json_body["event"]["stock_shards"], more.json_body["event"]["sold"]) == (16, 5)
    assert Event.get(event["id"]).stock_shard_items == 16 and in_shards(event["id"]) == 195

    none = api.put(f"/events/{event['id']}", {"stock_shards": 1}, as_=organizer)
    assert none.status_code == 200
    assert (none.json_body["event"]["stock_lane_open"], none.json_body["event"]["available"]) == (
        False, 195)  # fmt: skip
    assert in_shards(event["id"]) == 0
    assert Allocation.get(event["id"], organizer.id, consistent_read=True).available == 195


@pytest.mark.parametrize("value", [0, 65, "4", 2.5, None, -1])
def test_a_bad_number_of_shards_is_refused_and_changes_nothing(api, organizer, value):
    event = sharded_event(api, organizer)
    response = api.put(f"/events/{event['id']}", {"stock_shards": value}, as_=organizer)
    assert response.status_code == 400
    assert "stock_shards" in str(response.json_body["details"])
    assert Event.get(event["id"]).stock_lane_open and in_shards(event["id"]) == 200


def test_only_the_owner_can_make_a_lane_collapse(api, organizer):
    """Another organizer's change of the event's types or allocations is refused before the
    lane is touched (a collapse would slow the event's sale)."""
    event = sharded_event(api, organizer)
    stranger = make_user("organizer")
    reseller = make_user("reseller")
    calls = [
        api.post(f"/events/{event['id']}/ticket-types", {"name": "X", "price": "1"}, as_=stranger),
        api.put(f"/events/{event['id']}", {"stock_shards": 2}, as_=stranger),
        api.put(
            f"/events/{event['id']}/allocations/{reseller.id}",
            {"number_of_tickets": 5},
            as_=stranger,
        ),
    ]
    assert [c.status_code for c in calls] == [403, 403, 403]
    lane = Event.get(event["id"], consistent_read=True)
    assert lane.stock_lane_open and lane.stock_shards == 4 and in_shards(event["id"]) == 200


def test_an_allocation_is_made_with_the_lane_collapsed_then_split_again(api, organizer):
    event = sharded_event(api, organizer)
    reseller = make_user("reseller")
    response = api.put(
        f"/events/{event['id']}/allocations/{reseller.id}", {"number_of_tickets": 40}, as_=organizer
    )
    assert response.status_code in (200, 201), response.json_body
    assert Event.get(event["id"], consistent_read=True).stock_lane_open
    assert in_shards(event["id"]) == 160
    assert api.put(f"/allocations/{event['id']}", {"on_sale": True},
                   as_=reseller).status_code == 200  # fmt: skip
    # A reseller's order takes its type's stock from a shard, its own pool from its item.
    response = place(api, event["id"], [{"quantity": 2}], as_=reseller)
    assert response.status_code == 201, response.json_body
    order = Order.get(response.json_body["order"]["id"])
    assert order.stock_shard is not None and order.stock_shard_types == {event["id"]}
    assert event_counts(api, event["id"]) == (2, 0, 198)
    pool = Allocation.get(event["id"], reseller.id, consistent_read=True)
    assert (pool.sold, pool.available) == (2, 38)


def listed(api, path, caller, limit=3):
    """Every id a listing gives, page by page (sharded lists read their index parts in turn)."""
    key = "orders" if path.startswith("/orders") else "tickets"
    found, token, pages = [], None, 0
    while True:
        joiner = "&" if "?" in path else "?"
        query = f"{path}{joiner}limit={limit}" + (f"&next_token={token}" if token else "")
        response = api.get(query, as_=caller)
        assert response.status_code == 200, response.json_body
        found += [item["id"] for item in response.json_body[key]]
        token, pages = response.json_body["next_token"], pages + 1
        if not token:
            return found, pages


def test_a_sharded_sale_spreads_its_index_keys_and_every_listing_finds_all(api, organizer):
    """Each order and ticket of a sharded sale carries its event's, organizer's and seller's
    index key with a part suffix, so one event's sales spread over many index partitions;
    the lists read every part and lose nothing, page after page."""
    event = sharded_event(api, organizer, shards=8)
    plain = sharded_event(api, organizer, shards=1)
    for n in range(10):
        assert place(api, event["id"], [{"quantity": 1}],
                     buyer=buyer_body(f"s{n}@example.com")).status_code == 201  # fmt: skip
    assert place(api, plain["id"], [{"quantity": 2}]).status_code == 201
    orders = event_items(Order, event["id"])
    assert len(orders) == 10
    assert {o.event_part for o in orders} == {f"{event['id']}#{o.stock_shard}" for o in orders}
    assert all(o.organizer_part.startswith(f"{organizer.id}#") for o in orders)
    assert len({o.event_part for o in orders}) >= 3
    (plain_order,) = event_items(Order, plain["id"])
    assert (plain_order.event_part, plain_order.organizer_part) == (plain["id"], organizer.id)

    by_event, pages = listed(api, f"/orders?event_id={event['id']}", organizer)
    assert sorted(by_event) == sorted(o.id for o in orders) and pages >= 4
    everything, _ = listed(api, "/orders", organizer)
    assert sorted(everything) == sorted([*(o.id for o in orders), plain_order.id])
    tickets, _ = listed(api, f"/sold-tickets?event_id={event['id']}", admin_user(), limit=4)
    assert len(set(tickets)) == 10
    mine, _ = listed(api, "/sold-tickets", organizer, limit=50)
    assert len(set(mine)) == 12


def test_a_listing_token_of_one_part_does_not_fit_another_listing(api, organizer):
    event = sharded_event(api, organizer, shards=8)
    for n in range(4):
        place(api, event["id"], [{"quantity": 1}], buyer=buyer_body(f"p{n}@example.com"))
    first = api.get(f"/orders?event_id={event['id']}&limit=1", as_=organizer).json_body
    assert first["next_token"]
    other = api.get(f"/orders?limit=1&next_token={first['next_token']}", as_=organizer)
    assert other.status_code == 400


def test_a_hot_events_reads_are_reused_for_a_second_and_never_sell_past_a_change(
    api, organizer, monkeypatch
):
    """Orders of an event whose stock is split reuse its item and types as this process read
    them within HOT_READ_S (no hot read key), yet a type taken off sale meanwhile sells
    nothing: the change split the lane again under a new number, which the cached read lacks."""
    from chalicelib.db import batch
    from chalicelib.db.ticket_types import TicketType
    from chalicelib.services.sales import orders

    event = sharded_event(api, organizer)
    read = []
    real = batch.get_items
    monkeypatch.setattr(batch, "get_items",
                        lambda keys: read.append([k[0] for k in keys]) or real(keys))  # fmt: skip
    assert place(api, event["id"], [{"quantity": 1}]).status_code == 201
    assert place(api, event["id"], [{"quantity": 1}]).status_code == 201
    first, second = read[0], read[-1]
    assert Event in first and TicketType in first
    assert Event not in second and TicketType not in second  # reused

    off = api.put(f"/events/{event['id']}/ticket-types/{event['id']}", {"on_sale": False},
                  as_=organizer)  # fmt: skip
    assert off.status_code == 200
    assert orders._hot.peek(event["id"])[0].stock_lane_open  # this process still has the old read
    refused = place(api, event["id"], [{"quantity": 1}])
    assert (refused.status_code, refused.json_body["code"]) == (409, "not_on_sale")
    assert event_counts(api, event["id"])[0] == 2
