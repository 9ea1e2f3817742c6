"""Sharded stock (services/sales/stock_shards.py): whatever mix of takes, settles, releases,
collapses and splits runs, the base items plus the shards always add up to the stock, nothing
goes negative, and selling until sold out sells every ticket (none stranded in a shard)."""

import random
from datetime import timedelta

import pytest

from chalicelib.auth.principal import Principal
from chalicelib.db import transactions
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import utcnow
from chalicelib.db.events import Event
from chalicelib.db.ticket_types import UNLIMITED, TicketType
from chalicelib.errors import Conflict
from chalicelib.services.sales import events, inventory, stock, stock_shards, ticket_types
from tests.conftest import make_user

SHARDS = 4


@pytest.fixture
def event(tables):
    organizer = make_user("organizer")
    actor = Principal(user_id=organizer.id, role="organizer")
    created = events.create_event(
        actor=actor, title="Hot", time=utcnow() + timedelta(days=5), price="10",
        currency_code="GBP", number_of_tickets=200,
    ).event  # fmt: skip
    vip = ticket_types.create_type(actor=actor, event_id=created.id, name="VIP", price="50",
                                   quantity=60)  # fmt: skip
    return created, vip.id


def read(event_id):
    event = Event.get(event_id, consistent_read=True)
    pool = Allocation.get(event_id, event.organizer_id, consistent_read=True)
    types = {t.id: t for t in TicketType.query(event_id, consistent_read=True)}
    shards = [s for s in stock_shards.read_shards(event_id, SHARDS) if s is not None]
    return event, pool, types, shards


def assert_adds_up(event_id, orders_by_shard):
    _, pool, types, shards = read(event_id)
    summed = stock_shards.Totals()
    for shard in shards:
        summed.add(shard)
        assert shard.available >= 0
        for counts in shard.type_counts().values():
            assert min(counts.values()) >= 0, counts
    lane = summed.pool
    total = (pool.available + pool.sold + pool.held + lane.get("available", 0)
             + lane.get("sold", 0) + lane.get("held", 0))  # fmt: skip
    assert total == pool.number_of_tickets
    assert min(pool.available, pool.sold, pool.held) >= 0
    for type_id, ticket_type in types.items():
        mine = summed.types.get(type_id, {})
        quantity = ticket_type.quantity
        got = (ticket_type.remaining + ticket_type.sold + ticket_type.held
               + mine.get("remaining", 0) + mine.get("sold", 0) + mine.get("held", 0))  # fmt: skip
        assert got == quantity, (type_id, got, quantity)
    # Each shard's counts are exactly the orders taken through it and not given back.
    for shard in shards:
        mine = [o for o in orders_by_shard if o["shard"] == shard.index]
        assert shard.sold == sum(o["quantity"] for o in mine if o["state"] == inventory.SOLD)
        assert shard.held == sum(o["quantity"] for o in mine if o["state"] == inventory.HELD)


def place_for(event_id, index, type_id):
    """Shard `index` (0: the base items), with the type counted there if it is in the lane."""
    if not index:
        return stock.BASE
    lane_types = Event.get(event_id, consistent_read=True).stock_lane_types or ()
    return stock.Place(index, frozenset({type_id} & set(lane_types)))


def take(event_id, organizer_id, index, type_id, quantity, state):
    """One order's stock at shard `index` (0: the base items); the place it was taken at."""
    place = place_for(event_id, index, type_id)

    def build(tx):
        stock.add_take(
            tx, place=place, event_id=event_id, seller_id=organizer_id, by_reseller=False,
            must_be_on_sale=True, lines=[inventory.Line(type_id, quantity)], state=state,
            now=utcnow(),
        )  # fmt: skip

    return place if transactions.write_unless_refused(build) else None


def settle(event_id, organizer_id, order):
    lines = [inventory.Line(order["type"], order["quantity"])]
    money = inventory.Money({order["type"]: 100 * order["quantity"]})
    transactions.write(lambda tx: stock.add_settle(
        tx, place=order["place"], event_id=event_id, seller_id=organizer_id, by_reseller=False,
        lines=lines, now=utcnow(), money=money,
    ))  # fmt: skip
    order["state"] = inventory.SOLD


def release(event_id, organizer_id, order):
    """Given back wherever the lane is now: no read of the shard, no retry."""
    lines = [inventory.Line(order["type"], order["quantity"])]
    transactions.write(lambda tx: stock.add_release(
        tx, place=order["place"], event_id=event_id, seller_id=organizer_id, by_reseller=False,
        lines=lines, state=order["state"], now=utcnow(),
    ))  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_base_and_shards_always_add_up_to_the_stock(event, seed):
    created, vip = event
    rng = random.Random(seed)
    organizer_id = created.organizer_id
    assert stock_shards.split(created.id, SHARDS)
    live = []
    seen = {"shard take": 0, "base take": 0, "shard release": 0, "re-split": 0}
    for _ in range(70):
        move = rng.choice(["take", "take", "take", "settle", "release", "collapse", "split"])
        lane = Event.get(created.id, consistent_read=True).stock_lane_open
        if move == "take":
            index = rng.randint(1, SHARDS) if lane else 0
            type_id = rng.choice([created.id, vip])
            quantity = rng.randint(1, 4)
            state = rng.choice([inventory.SOLD, inventory.HELD])
            place = take(created.id, organizer_id, index, type_id, quantity, state)
            if place is not None:
                live.append({"shard": index, "place": place, "type": type_id,
                             "quantity": quantity, "state": state})  # fmt: skip
                seen["shard take" if index else "base take"] += 1
        elif move == "settle" and any(o["state"] == inventory.HELD for o in live):
            settle(created.id, organizer_id,
                   rng.choice([o for o in live if o["state"] == inventory.HELD]))  # fmt: skip
        elif move == "release" and live:
            order = live.pop(rng.randrange(len(live)))
            release(created.id, organizer_id, order)
            seen["shard release"] += bool(order["shard"])
        elif move == "collapse":
            stock_shards.collapse(created.id)
        elif move == "split" and not lane:
            seen["re-split"] += stock_shards.split(created.id, SHARDS)
        assert_adds_up(created.id, live)
    assert min(seen.values()) > 0, seen


def test_selling_until_sold_out_strands_nothing(event):
    created, _ = event
    rng = random.Random(7)
    organizer_id = created.organizer_id
    assert stock_shards.split(created.id, SHARDS)
    sold = 0
    live = []
    while True:
        quantity = rng.randint(1, 4)
        lane = Event.get(created.id, consistent_read=True).stock_lane_open
        tried = rng.sample(range(1, SHARDS + 1), 3) if lane else []
        done = next((i for i in tried if take(created.id, organizer_id, i, created.id, quantity,
                                              inventory.SOLD)), None)  # fmt: skip
        if done is None and take(created.id, organizer_id, 0, created.id, quantity,
                                 inventory.SOLD):  # fmt: skip
            done = 0
        if done is None:  # the tail: everything back to one place, then the base once more
            stock_shards.collapse(created.id)
            if take(created.id, organizer_id, 0, created.id, quantity, inventory.SOLD):
                done = 0
        if done is None:
            if quantity == 1:
                break
            continue
        sold += quantity
        live.append({"shard": done, "place": place_for(created.id, done, created.id),
                     "type": created.id, "quantity": quantity,
                     "state": inventory.SOLD})  # fmt: skip

    _, pool, _, shards = read(created.id)
    assert sold == 200  # every ticket of the organizer's pool, none left in a shard
    assert pool.available == 0 and all(s.available == 0 for s in shards)
    assert sum(1 for o in live if o["shard"]) > sum(1 for o in live if not o["shard"])
    assert_adds_up(created.id, live)


def test_a_split_leaves_small_counts_in_the_base_and_refuses_twice(event):
    created, vip = event
    assert stock_shards.split(created.id, SHARDS)
    event_item, pool, types, shards = read(created.id)

    assert len(shards) == SHARDS
    assert pool.available == 0  # 200 in 4 slices of 50
    assert {s.available for s in shards} == {50}
    assert set(event_item.stock_lane_types) == {created.id, vip}  # 60 VIP: 15 a shard
    assert types[created.id].remaining == 0
    assert sum(s.type_counts()[created.id]["remaining"] for s in shards) == UNLIMITED
    with pytest.raises(Conflict):
        stock_shards.split(created.id, SHARDS)
    assert stock_shards.collapse(created.id) == 200 + 60 + UNLIMITED
    event_item, pool, types, shards = read(created.id)
    assert (pool.available, types[vip].remaining, event_item.stock_lane_open) == (200, 60, False)
    assert all(s.closed and s.available == 0 for s in shards)


def test_the_tail_collapses_the_lane_into_the_base(event):
    """4 shards of 50 sold down to 0, 0, 1 and 2: an order of 3 that no shard holds finds the
    lane under one ticket a shard, so the whole lane collapses and the order sells from the
    base."""
    created, _ = event
    organizer_id = created.organizer_id
    assert stock_shards.split(created.id, SHARDS)
    for index, sold in zip(range(1, SHARDS + 1), (50, 50, 49, 48), strict=True):
        assert take(created.id, organizer_id, index, created.id, sold, inventory.SOLD)
    lane_event = Event.get(created.id, consistent_read=True)
    lines = [inventory.Line(created.id, 3)]
    assert stock.after_refusal(lane_event, place_for(created.id, 1, created.id), lines,
                               by_reseller=False) == stock.BASE  # fmt: skip
    assert Event.get(created.id, consistent_read=True).stock_lane_open is False
    _, pool, _, shards = read(created.id)
    assert pool.available == 3 and all(s.available == 0 for s in shards)
    assert take(created.id, organizer_id, 0, created.id, 3, inventory.SOLD)


def test_gathering_moves_just_what_the_order_needs(event):
    created, _ = event
    organizer_id = created.organizer_id
    assert stock_shards.split(created.id, SHARDS)
    sold = []
    for index in range(1, SHARDS + 1):
        assert take(created.id, organizer_id, index, created.id, 40, inventory.SOLD)
        sold.append({"shard": index, "quantity": 40, "state": inventory.SOLD})
    # 10 left in each shard; an order of 25 fits none of them.
    lane_event = Event.get(created.id, consistent_read=True)
    lines = [inventory.Line(created.id, 25)]
    assert not any(stock_shards.holds(s, pool_quantity=25, lines=lines)
                   for s in stock_shards.read_shards(created.id, SHARDS))  # fmt: skip
    assert stock.after_refusal(lane_event, place_for(created.id, 2, created.id), lines,
                               by_reseller=False) == stock.BASE  # fmt: skip
    _, pool, types, shards = read(created.id)
    assert pool.available == 25
    assert sorted(s.available for s in shards) == [0, 0, 5, 10]  # fullest first
    assert types[created.id].remaining == 25 and Event.get(created.id).stock_lane_open
    assert take(created.id, organizer_id, 0, created.id, 25, inventory.SOLD)
    assert_adds_up(created.id, sold)


def test_a_collapse_cut_short_is_finished_by_the_next_order(event):
    """A collapse closes the lane first, then empties the shards one by one: if it stops in
    between (a crash, throttling), the stock left in open shards is not stranded: an order
    the base cannot serve finishes the collapse and sells."""
    created, _ = event
    assert stock_shards.split(created.id, SHARDS)
    Event(id=created.id).update(actions=[Event.stock_lane_open.set(False)])  # cut short
    closed = Event.get(created.id, consistent_read=True)
    lines = [inventory.Line(created.id, 3)]
    assert not take(created.id, created.organizer_id, 0, created.id, 3, inventory.SOLD)
    assert stock.after_refusal(closed, stock.BASE, lines, by_reseller=False) == stock.BASE
    assert take(created.id, created.organizer_id, 0, created.id, 3, inventory.SOLD)
    _, pool, _, shards = read(created.id)
    assert pool.available == 197 and all(s.closed and s.available == 0 for s in shards)
    # Nothing left in a shard: one read, and the answer stands.
    assert stock.after_refusal(closed, stock.BASE, lines, by_reseller=False) is None


def test_after_a_refusal_first_picks_skip_the_shards_seen_dry(event):
    """Late in a sale most shards are dry: once a refusal has read them, this process's next
    orders pick among the shards that held them, instead of each finding a dry one."""
    created, _ = event
    assert stock_shards.split(created.id, SHARDS)
    for index in (1, 2, 3):
        assert take(created.id, created.organizer_id, index, created.id, 50, inventory.SOLD)
    lane_event = Event.get(created.id, consistent_read=True)
    lines = [inventory.Line(created.id, 1)]
    picked = {stock.first_place(lane_event, lines, by_reseller=False).shard for _ in range(200)}
    assert picked == {1, 2, 3, 4}  # nothing seen yet: any shard

    refused_at = stock.Place(1, frozenset({created.id}), int(lane_event.stock_lane))
    moved = stock.after_refusal(lane_event, refused_at, lines, by_reseller=False)
    assert moved is not None and moved.shard == 4
    picked = {stock.first_place(lane_event, lines, by_reseller=False).shard for _ in range(50)}
    assert picked == {4}
    # An order no shard held when last seen still goes to a shard: its refusal reads afresh.
    big = [inventory.Line(created.id, 60)]
    assert stock.first_place(lane_event, big, by_reseller=False).shard in {1, 2, 3, 4}
