"""Sharded stock: an event's organizer stock as a lane of S shard items, so that one event's
orders spread over S partition keys (chalicelib/db/stock_shards.py says what a shard holds).

- **split** opens the lane: it moves the organizer pool's `available`, and each type's
  `remaining`, from the base items into S even slices, in one transaction conditional on the
  counts it read (so the sum never changes). A count too small to give every shard
  LANE_MINIMUM stays whole in the base, and orders of that type take from the base; so do
  orders of a type created after the split.
- **add_take / add_settle / add_release** are inventory's writes, made on one shard: a take is
  conditional on that shard's slices (`available >= n`, `remaining >= q`) and on the lane
  being open, so overselling stays impossible by construction. The shard an order took from
  keeps its `sold`/`held` counts, so a settle or a release goes back to the same shard.
  Stock coming back goes to that shard while the lane is open, else to the base.
- **collapse** closes the lane: every shard's remaining stock back into the base (one
  transaction per shard, conditional on the shard as read). Orders then take from the base,
  where every rule of the unsharded event applies; the tail of a sale collapses so that the
  last tickets sell from one place, and no ticket is stranded in a shard.

The event's counts are the base items' plus the shards' (`totals`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pynamodb.transactions import TransactWrite

from chalicelib.db import batch, transactions
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import get_or_none, utcnow
from chalicelib.db.events import Event
from chalicelib.db.stock_shards import MAX_SHARDS, StockShard, shard_id
from chalicelib.db.ticket_types import TicketType
from chalicelib.errors import Conflict, InvalidRequest, NotFound
from chalicelib.services.sales import inventory

log = logging.getLogger(__name__)

LANE_MINIMUM = 4  # a count goes into the lane only if every shard gets at least this many
COUNTERS = ("sold", "held", "gross", "refunded")
SPLIT_ATTEMPTS = 4


@dataclass
class Totals:
    """What the shards hold, summed: the organizer pool's part and each type's."""

    pool: dict[str, int] = field(default_factory=dict)
    types: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, shard: StockShard) -> None:
        for name, value in (("available", shard.available), ("sold", shard.sold),
                            ("held", shard.held), ("gross", shard.gross_minor),
                            ("online", shard.online_minor),
                            ("refunded", shard.refunded_minor)):  # fmt: skip
            self.pool[name] = self.pool.get(name, 0) + int(value or 0)
        for type_id, counts in shard.type_counts().items():
            mine = self.types.setdefault(type_id, {})
            for name, value in counts.items():
                mine[name] = mine.get(name, 0) + int(value or 0)


def read_shards(event_id: str, shards: int) -> list[StockShard | None]:
    keys: list[batch.Key] = [(StockShard, shard_id(event_id, i), None)
                             for i in range(1, shards + 1)]  # fmt: skip
    return batch.get_items(keys)  # type: ignore[return-value]


def totals(event_id: str, shards: int) -> Totals:
    summed = Totals()
    for shard in read_shards(event_id, shards):
        if shard is not None:
            summed.add(shard)
    return summed


def _slices(count: int, shards: int) -> list[int] | None:
    """`count` in `shards` even slices, or None when a slice would be under LANE_MINIMUM."""
    if count < LANE_MINIMUM * shards:
        return None
    size, extra = divmod(count, shards)
    return [size + (1 if i < extra else 0) for i in range(shards)]


# --- opening and closing the lane ------------------------------------------------------------


def split(event_id: str, shards: int) -> bool:
    """Open the event's lane of `shards` shards. False when there is too little stock to split
    (the event keeps selling from its base items)."""
    if not 2 <= shards <= MAX_SHARDS:
        raise InvalidRequest(details={"stock_shards": f"2 to {MAX_SHARDS}."})
    for _ in range(SPLIT_ATTEMPTS):
        event = get_or_none(Event, event_id, consistent_read=True)
        if event is None:
            raise NotFound()
        if event.stock_lane_open:
            raise Conflict("The event's stock is split already.", code="lane_open")
        pool = get_or_none(Allocation, event_id, event.organizer_id, consistent_read=True)
        if pool is None:
            raise NotFound()
        pool_slices = _slices(int(pool.available), shards)
        if pool_slices is None:
            return False
        types = list(TicketType.query(event_id, consistent_read=True))
        # Every type's remaining, a type without a quantity of its own too (its remaining is
        # UNLIMITED less its sales), so that remaining = quantity - sold - held stays true of
        # the sums whatever goes through the lane.
        type_slices = {t.id: _slices(int(t.remaining), shards) for t in types}
        existing = read_shards(event_id, shards)
        build = functools.partial(
            _build_split, event=event, pool=pool, types=types, existing=existing,
            pool_slices=pool_slices, type_slices=type_slices, now=utcnow(),
        )  # fmt: skip
        if transactions.write_unless_refused(build):
            return True
    raise Conflict("The event's stock changed while it was being split; try again.",
                   code="concurrent_change")  # fmt: skip


def _build_split(
    tx: TransactWrite,
    *,
    event: Event,
    pool: Allocation,
    types: list[TicketType],
    existing: Sequence[StockShard | None],
    pool_slices: list[int],
    type_slices: dict[str, list[int] | None],
    now: datetime,
) -> None:
    sliced = {type_id for type_id, slices in type_slices.items() if slices is not None}
    tx.update(
        event,
        actions=[Event.stock_shards.set(len(existing)), Event.stock_lane_open.set(True),
                 Event.stock_lane_types.set(sliced or None), Event.updated_at.set(now)],
        condition=Event.stock_lane_open.does_not_exist() | (Event.stock_lane_open == False),  # noqa: E712
    )  # fmt: skip
    tx.update(
        pool,
        actions=[Allocation.available.add(-sum(pool_slices)), Allocation.updated_at.set(now)],
        condition=(Allocation.available == pool.available) & Allocation.closed_at.does_not_exist(),
    )
    for ticket_type in types:
        slices = type_slices.get(ticket_type.id)
        if slices is not None:
            tx.update(
                ticket_type,
                actions=[TicketType.remaining.add(-sum(slices))],
                condition=TicketType.remaining == ticket_type.remaining,
            )
    for position, shard in enumerate(existing):
        index = position + 1
        kept = shard.type_counts() if shard is not None else {}
        entries = {}
        for ticket_type in types:
            entry = {name: int(kept.get(ticket_type.id, {}).get(name, 0)) for name in COUNTERS}
            slices = type_slices.get(ticket_type.id)
            if slices is not None:
                entry["remaining"] = slices[position]
            entries[ticket_type.id] = entry
        if shard is None:
            fresh = StockShard(id=shard_id(event.id, index), event_id=event.id, index=index,
                               available=pool_slices[position], types=entries, version=1,
                               updated_at=now)  # fmt: skip
            tx.save(fresh, condition=StockShard.id.does_not_exist())
        else:  # closed and emptied by a collapse: its counts of past sales stay
            tx.update(
                shard,
                actions=[StockShard.available.set(pool_slices[position]),
                         StockShard.types.set(entries), StockShard.closed.set(False),
                         StockShard.version.add(1), StockShard.updated_at.set(now)],
                condition=(StockShard.version == shard.version) & (StockShard.available == 0),
            )  # fmt: skip


def collapse(event_id: str) -> int:
    """Close the lane and bring every shard's stock back to the base; returns how many tickets
    came back. Safe to repeat; orders stop taking from the shards as each one closes."""
    event = get_or_none(Event, event_id, consistent_read=True)
    if event is None or not event.stock_shards or int(event.stock_shards) < 2:
        return 0
    if event.stock_lane_open:
        event.update(actions=[Event.stock_lane_open.set(False)])
    returned = 0
    for index in range(1, int(event.stock_shards) + 1):
        returned += _collapse_shard(event, index)
    return returned


def _collapse_shard(event: Event, index: int) -> int:
    for _ in range(SPLIT_ATTEMPTS * 4):
        shard = get_or_none(StockShard, shard_id(event.id, index), consistent_read=True)
        if shard is None:
            return 0
        counts = shard.type_counts()
        remaining = {t: int(c.get("remaining", 0)) for t, c in counts.items() if c.get("remaining")}
        if shard.closed and not shard.available and not remaining:
            return 0

        def build(
            tx: TransactWrite, shard: StockShard = shard, remaining: dict[str, int] = remaining
        ) -> None:
            actions = [StockShard.available.set(0), StockShard.closed.set(True),
                       StockShard.version.add(1), StockShard.updated_at.set(utcnow())]  # fmt: skip
            actions += [StockShard.types[t]["remaining"].set(0) for t in remaining]
            tx.update(shard, actions=actions, condition=StockShard.version == shard.version)
            if shard.available:
                tx.update(Allocation(event_id=event.id, seller_id=event.organizer_id),
                          actions=[Allocation.available.add(int(shard.available))],
                          condition=Allocation.event_id.exists())  # fmt: skip
            for type_id, count in remaining.items():
                tx.update(TicketType(event_id=event.id, id=type_id),
                          actions=[TicketType.remaining.add(count)],
                          condition=TicketType.id.exists())  # fmt: skip

        if transactions.write_unless_refused(build):
            return int(shard.available) + sum(remaining.values())
    raise Conflict("A stock shard kept changing while it was being closed; try again.",
                   code="concurrent_change")  # fmt: skip


# --- an order's writes on one shard -----------------------------------------------------------


def _shard_key(event_id: str, index: int) -> StockShard:
    return StockShard(id=shard_id(event_id, index))


def _pool_money(money: inventory.Money | None) -> list:
    """What a sale brought in, on the shard's pool counts (as inventory keeps it on a pool)."""
    if money is None:
        return []
    amount = sum(money.per_type.values())
    actions = [StockShard.gross_minor.add(amount)]
    if money.online:
        actions.append(StockShard.online_minor.add(amount))
    return actions


def _type_money(money: inventory.Money | None, type_id: str) -> list:
    if money is None or not money.per_type.get(type_id):
        return []
    entry = StockShard.types[type_id]
    return [entry["gross"].set(entry["gross"] + money.per_type[type_id])]


def add_take(
    tx: TransactWrite,
    *,
    event_id: str,
    index: int,
    lines: list[inventory.Line],
    sliced: set[str],
    state: str,
    now: datetime,
    pool: bool = True,
    money: inventory.Money | None = None,
) -> None:
    """Take the lines' stock from shard `index` (`pool`: the organizer pool's part too; a
    reseller's order takes only the types' part here). Every line's type must be in `sliced`
    (the event's `stock_lane_types`). Refused unless the shard is open and its slices hold the
    stock."""
    if any(line.ticket_type_id not in sliced for line in lines):
        raise ValueError("a type whose remaining is not in the lane sells from the base")
    total = sum(line.quantity for line in lines)
    actions = [StockShard.version.add(1), StockShard.updated_at.set(now)]
    condition = StockShard.id.exists() & (StockShard.closed == False)  # noqa: E712
    if pool:
        counter = StockShard.sold if state == inventory.SOLD else StockShard.held
        actions += [StockShard.available.add(-total), counter.add(total)]
        condition &= StockShard.available >= total
        actions += _pool_money(money)
    for line in lines:
        entry = StockShard.types[line.ticket_type_id]
        actions += [entry[state].set(entry[state] + line.quantity),
                    entry["remaining"].set(entry["remaining"] - line.quantity),
                    *_type_money(money, line.ticket_type_id)]  # fmt: skip
        condition &= entry["remaining"] >= line.quantity
    tx.update(_shard_key(event_id, index), actions=actions, condition=condition)


def add_settle(
    tx: TransactWrite,
    *,
    event_id: str,
    index: int,
    lines: list[inventory.Line],
    now: datetime,
    money: inventory.Money,
    pool: bool = True,
) -> None:
    """A reserved order taken from shard `index` was paid: held becomes sold there."""
    total = sum(line.quantity for line in lines)
    actions = [StockShard.version.add(1), StockShard.updated_at.set(now)]
    condition = StockShard.id.exists()
    if pool:
        actions += [StockShard.held.add(-total), StockShard.sold.add(total),
                    *_pool_money(money)]  # fmt: skip
        condition &= StockShard.held >= total
    for line in lines:
        entry = StockShard.types[line.ticket_type_id]
        actions += [entry["held"].set(entry["held"] - line.quantity),
                    entry["sold"].set(entry["sold"] + line.quantity),
                    *_type_money(money, line.ticket_type_id)]  # fmt: skip
        condition &= entry["held"] >= line.quantity
    tx.update(_shard_key(event_id, index), actions=actions, condition=condition)


def add_release(
    tx: TransactWrite,
    *,
    event: Event,
    shard: StockShard,
    lines: list[inventory.Line],
    state: str,
    now: datetime,
    pool: bool = True,
    refunded: dict[str, int] | None = None,
) -> None:
    """Give back lines an order took from `shard` (as read): its counts go down there; the
    stock itself goes back to the shard while it is open (and the type still in the lane),
    else to the base items. Conditional on the shard being as open or closed as read."""
    refunded = {t: amount for t, amount in (refunded or {}).items() if amount}
    total = sum(line.quantity for line in lines)
    open_ = not shard.closed
    sliced = set(event.stock_lane_types or ()) if open_ else set()
    actions = [StockShard.version.add(1), StockShard.updated_at.set(now)]
    condition = StockShard.closed == shard.closed
    base_pool = 0
    if pool:
        counter = StockShard.sold if state == inventory.SOLD else StockShard.held
        actions.append(counter.add(-total))
        condition &= counter >= total
        if open_:
            actions.append(StockShard.available.add(total))
        else:
            base_pool = total
        if refunded:
            actions.append(StockShard.refunded_minor.add(sum(refunded.values())))
    base_types: dict[str, int] = {}
    for line in lines:
        entry = StockShard.types[line.ticket_type_id]
        actions.append(entry[state].set(entry[state] - line.quantity))
        condition &= entry[state] >= line.quantity
        if line.ticket_type_id in sliced:
            actions.append(entry["remaining"].set(entry["remaining"] + line.quantity))
        else:
            base_types[line.ticket_type_id] = line.quantity
    for type_id, amount in refunded.items():
        entry = StockShard.types[type_id]
        actions.append(entry["refunded"].set(entry["refunded"] + amount))
    tx.update(shard, actions=actions, condition=condition)
    if base_pool:
        tx.update(Allocation(event_id=event.id, seller_id=event.organizer_id),
                  actions=[Allocation.available.add(base_pool)],
                  condition=Allocation.event_id.exists())  # fmt: skip
    for type_id, quantity in base_types.items():
        tx.update(TicketType(event_id=event.id, id=type_id),
                  actions=[TicketType.remaining.add(quantity)],
                  condition=TicketType.id.exists())  # fmt: skip
