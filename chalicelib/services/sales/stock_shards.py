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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from pynamodb.transactions import TransactWrite

from chalicelib.db import batch, transactions
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import get_or_none, utcnow
from chalicelib.db.events import Event
from chalicelib.db.stock_shards import MAX_SHARDS, StockShard, shard_id
from chalicelib.db.ticket_types import TicketType
from chalicelib.errors import Conflict, InvalidRequest, NotFound, ServiceUnavailable
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
        if any(t.waiting for t in types):
            return False  # the waiting list's conditions live on the base items
        # Every type's remaining, a type without a quantity of its own too (its remaining is
        # UNLIMITED less its sales), so that remaining = quantity - sold - held stays true of
        # the sums whatever goes through the lane. Only types on sale: a shard's take checks
        # no more than its slices, so a type off sale must have none.
        type_slices = {t.id: _slices(int(t.remaining), shards) if t.on_sale else None
                       for t in types}  # fmt: skip
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
    items = max(len(existing), int(event.stock_shard_items or 0))
    lane = int(event.stock_lane or 0) + 1
    tx.update(
        event,
        actions=[Event.stock_shards.set(len(existing)), Event.stock_shard_items.set(items),
                 Event.stock_lane_open.set(True), Event.stock_lane.set(lane),
                 Event.stock_lane_types.set(sliced or None), Event.updated_at.set(now)],
        condition=Event.stock_lane_open.does_not_exist() | (Event.stock_lane_open == False),  # noqa: E712
    )  # fmt: skip
    tx.update(
        pool,
        actions=[
            Allocation.available.add(-sum(pool_slices)),
            Allocation.stock_shard_items.set(items),
            Allocation.updated_at.set(now),
        ],
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
                               lane=lane, updated_at=now)  # fmt: skip
            tx.save(fresh, condition=StockShard.id.does_not_exist())
        else:  # closed and emptied by a collapse: its counts of past sales stay
            tx.update(
                shard,
                actions=[StockShard.available.set(pool_slices[position]),
                         StockShard.types.set(entries), StockShard.closed.set(False),
                         StockShard.lane.set(lane),
                         StockShard.version.add(1), StockShard.updated_at.set(now)],
                condition=(StockShard.version == shard.version) & (StockShard.available == 0),
            )  # fmt: skip


def collapse(event_id: str) -> int:
    """Close the lane and bring every shard's stock back to the base; returns how many tickets
    came back. Safe to repeat; orders stop taking from the shards as each one closes."""
    event = get_or_none(Event, event_id, consistent_read=True)
    if event is None or not event.stock_shard_items:
        return 0
    if event.stock_lane_open:
        event.update(actions=[Event.stock_lane_open.set(False)])
    returned = 0
    for index in range(1, int(event.stock_shard_items) + 1):
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


def lane_size(event: Event) -> int:
    """How many shards orders take from now (0: the lane is closed)."""
    return int(event.stock_shards or 0) if event.stock_lane_open else 0


def holds(
    shard: StockShard | None,
    *,
    pool_quantity: int,
    lines: list[inventory.Line],
    lane: int | None = None,
) -> bool:
    """Whether an order's take from this shard (as read) would pass its conditions."""
    if shard is None or shard.closed or int(shard.available) < pool_quantity:
        return False
    if lane is not None and shard.lane != lane:
        return False
    counts = shard.type_counts()
    return all(int(counts.get(line.ticket_type_id, {}).get("remaining", -1)) >= line.quantity
               for line in lines)  # fmt: skip


def gather(event: Event, *, pool_quantity: int, lines: list[inventory.Line]) -> bool:
    """Rebalance for an order no single shard holds: move just its stock (`pool_quantity` of
    the organizer pool's slices, each line's quantity of its type's) from the open shards into
    the base items, in one transaction conditional on every shard it takes from, so the sum
    never changes. At the very end (the lane's pool under one ticket a shard) the whole lane
    collapses instead. False when the lane has not got that much."""
    for _ in range(SPLIT_ATTEMPTS):
        shards = [s for s in read_shards(event.id, int(event.stock_shards or 0))
                  if s is not None and not s.closed]  # fmt: skip
        if not shards:
            return False
        in_lane = sum(int(s.available) for s in shards)
        # Collapsing earlier would sell the tail from the base items' one key: at S = 64 a
        # threshold of 4 a shard sent a third of a 768-ticket sale there (make onsale).
        if in_lane < len(shards):
            return collapse(event.id) > 0
        pool_short, lines_short = _short_in_base(event, pool_quantity, lines)
        if not pool_short and not lines_short:
            return True  # the base holds it already (given back, or gathered by another)
        plan = _gather_plan(shards, pool_short, lines_short)
        if plan is None:
            return False
        build = functools.partial(_build_gather, event=event, plan=plan, now=utcnow())
        if transactions.write_unless_refused(build):
            return True
    return False


def _short_in_base(
    event: Event, pool_quantity: int, lines: list[inventory.Line]
) -> tuple[int, list[inventory.Line]]:
    """What the base items lack of an order's stock (they hold stock given back)."""
    keys: list[batch.Key] = [(Allocation, event.id, event.organizer_id)]
    keys += [(TicketType, event.id, line.ticket_type_id) for line in lines]
    pool, *types = batch.get_items(keys)
    available = int(pool.available) if pool is not None else 0
    short = []
    for line, ticket_type in zip(lines, types, strict=True):
        remaining = int(ticket_type.remaining) if ticket_type is not None else 0
        if remaining < line.quantity:
            short.append(inventory.Line(line.ticket_type_id, line.quantity - remaining))
    return max(0, pool_quantity - available), short


_Moves = tuple[int, dict[str, int]]  # (pool tickets, {type: tickets}) moved off one shard


def _gather_plan(
    shards: list[StockShard], pool_quantity: int, lines: list[inventory.Line]
) -> list[tuple[StockShard, _Moves]] | None:
    """Which shards give what, fullest first (the fewest items in the transaction)."""
    need_pool = pool_quantity
    need = {line.ticket_type_id: line.quantity for line in lines}
    plan = []
    for shard in sorted(shards, key=lambda s: -int(s.available)):
        counts = shard.type_counts()
        pool_part = min(need_pool, int(shard.available))
        type_part = {t: min(q, int(counts.get(t, {}).get("remaining", 0))) for t, q in need.items()}
        type_part = {t: q for t, q in type_part.items() if q > 0}
        if not pool_part and not type_part:
            continue
        plan.append((shard, (pool_part, type_part)))
        need_pool -= pool_part
        for type_id, moved in type_part.items():
            need[type_id] -= moved
        if need_pool <= 0 and all(q <= 0 for q in need.values()):
            return plan
    return None


def _build_gather(
    tx: TransactWrite, *, event: Event, plan: list[tuple[StockShard, _Moves]], now: datetime
) -> None:
    pool_total = 0
    type_totals: dict[str, int] = {}
    for shard, (pool_part, type_part) in plan:
        actions = [StockShard.version.add(1), StockShard.updated_at.set(now)]
        condition = StockShard.closed == False  # noqa: E712
        if pool_part:
            actions.append(StockShard.available.add(-pool_part))
            condition &= StockShard.available >= pool_part
        for type_id, moved in type_part.items():
            entry = StockShard.types[type_id]
            actions.append(entry["remaining"].set(entry["remaining"] - moved))
            condition &= entry["remaining"] >= moved
            type_totals[type_id] = type_totals.get(type_id, 0) + moved
        pool_total += pool_part
        tx.update(shard, actions=actions, condition=condition)
    if pool_total:
        tx.update(Allocation(event_id=event.id, seller_id=event.organizer_id),
                  actions=[Allocation.available.add(pool_total)],
                  condition=Allocation.event_id.exists())  # fmt: skip
    for type_id, moved in type_totals.items():
        tx.update(TicketType(event_id=event.id, id=type_id),
                  actions=[TicketType.remaining.add(moved)],
                  condition=TicketType.id.exists())  # fmt: skip


def fold(
    pools: Sequence[Allocation | None],
    types: Sequence[TicketType | None] = (),
    *,
    event: Event | None = None,
) -> None:
    """Add what an event's shards hold and counted into its base items as read (in memory
    only, never saved): the counts the API shows are the sums. The event, or else the
    organizer's pool, says whether there are shards: unsharded events cost no read."""
    pool = next((p for p in pools if p is not None and p.seller_role == inventory.ORGANIZER),
                None)  # fmt: skip
    source = event if event is not None else pool
    if source is None or not source.stock_shard_items:
        return
    event_id = event.id if event is not None else pool.event_id  # type: ignore[union-attr]
    summed = totals(event_id, int(source.stock_shard_items))
    if pool is not None and summed.pool:
        pool.available = int(pool.available) + summed.pool.get("available", 0)
        pool.sold = int(pool.sold) + summed.pool.get("sold", 0)
        pool.held = int(pool.held or 0) + summed.pool.get("held", 0)
        pool.gross_minor = int(pool.gross_minor or 0) + summed.pool.get("gross", 0)
        pool.online_minor = int(pool.online_minor or 0) + summed.pool.get("online", 0)
        pool.refunded_minor = int(pool.refunded_minor or 0) + summed.pool.get("refunded", 0)
    for ticket_type in types:
        counts = summed.types.get(ticket_type.id) if ticket_type is not None else None
        if not counts:
            continue
        ticket_type.remaining = int(ticket_type.remaining) + counts.get("remaining", 0)
        ticket_type.sold = int(ticket_type.sold or 0) + counts.get("sold", 0)
        ticket_type.held = int(ticket_type.held or 0) + counts.get("held", 0)
        ticket_type.gross_minor = int(ticket_type.gross_minor or 0) + counts.get("gross", 0)
        ticket_type.refunded_minor = (int(ticket_type.refunded_minor or 0)
                                      + counts.get("refunded", 0))  # fmt: skip


def finish_collapse(event: Event) -> bool:
    """Bring back what a closed lane's shards still hold (one BatchGetItem when nothing is
    left, as at every sold out); True if anything came back."""
    if not event.stock_shard_items:
        return False
    left = any(
        shard is not None and (shard.available or any(
            c.get("remaining") for c in shard.type_counts().values()))
        for shard in read_shards(event.id, int(event.stock_shard_items))
    )  # fmt: skip
    return left and collapse(event.id) > 0


def has_sales(event: Event) -> bool:
    """Whether any of the event's shards counts tickets sold or held."""
    if not event.stock_shard_items:
        return False
    summed = totals(event.id, int(event.stock_shard_items))
    return bool(summed.pool.get("sold") or summed.pool.get("held"))


def delete_shards(event: Event) -> None:
    """The shard items of a deleted event (after it: a crash leaves items no event reaches)."""
    if not event.stock_shard_items:
        return
    with StockShard.batch_write() as writes:
        for index in range(1, int(event.stock_shard_items) + 1):
            writes.delete(StockShard(id=shard_id(event.id, index)))


@contextmanager
def lane_closed(event_id: str) -> Iterator[None]:
    """Around a change of the event's stock or its types' rules (allocations, capacity, types,
    closing): the lane is collapsed first, so the change meets every ticket in the base items
    under their full conditions, and split again afterwards when the event asks for shards."""
    collapse(event_id)
    try:
        yield
    finally:
        reopen(event_id)


def reopen(event_id: str) -> bool:
    """Split the event's stock into the shards it asks for, if any and if enough is left."""
    event = get_or_none(Event, event_id, consistent_read=True)
    if event is None or int(event.stock_shards or 1) < 2 or event.stock_lane_open:
        return False
    try:
        return split(event_id, int(event.stock_shards))
    except (Conflict, NotFound, ServiceUnavailable):  # changed, deleted or too busy meanwhile
        log.warning("stock of event %s left unsplit", event_id)
        return False


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
    pool_quantity: int,
    lines: list[inventory.Line],
    state: str,
    now: datetime,
    money: inventory.Money | None = None,
    lane: int | None = None,
) -> None:
    """Take from shard `index`, in one update: `pool_quantity` tickets of the organizer pool's
    slice (0: a reseller's order, whose pool is its own item) and each of `lines` from its
    type's slice (types in the lane only). Refused unless the shard is open, of `lane` (the
    event's `stock_lane` as the order read it) and its slices hold the stock; a type not in
    the lane has no slice, which refuses it too."""
    actions = [StockShard.version.add(1), StockShard.updated_at.set(now)]
    condition = StockShard.id.exists() & (StockShard.closed == False)  # noqa: E712
    if lane is not None:
        condition &= StockShard.lane == lane
    if pool_quantity:
        counter = StockShard.sold if state == inventory.SOLD else StockShard.held
        actions += [StockShard.available.add(-pool_quantity), counter.add(pool_quantity)]
        condition &= StockShard.available >= pool_quantity
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
    pool_quantity: int,
    lines: list[inventory.Line],
    now: datetime,
    money: inventory.Money,
) -> None:
    """A reserved order that took from shard `index` was paid: held becomes sold there (open
    or closed: only counts move)."""
    actions = [StockShard.version.add(1), StockShard.updated_at.set(now)]
    condition = StockShard.id.exists()
    if pool_quantity:
        actions += [StockShard.held.add(-pool_quantity), StockShard.sold.add(pool_quantity),
                    *_pool_money(money)]  # fmt: skip
        condition &= StockShard.held >= pool_quantity
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
    event_id: str,
    index: int,
    pool_quantity: int,
    lines: list[inventory.Line],
    state: str,
    now: datetime,
    refunded_pool: int = 0,
    refunded_types: dict[str, int] | None = None,
) -> None:
    """Lines an order took from shard `index` are given back: its counts go down there (each
    must still hold what goes), and the money refunded is counted there (`refunded_pool` on
    its pool counts, `refunded_types` on its types'). The stock itself
    goes to the base items (the caller's part): a shard only ever shrinks while open, so no
    release depends on whether the lane is open, and the base is where the fallover and the
    tail sell it."""
    actions = [StockShard.version.add(1), StockShard.updated_at.set(now)]
    condition = StockShard.id.exists()
    if pool_quantity:
        counter = StockShard.sold if state == inventory.SOLD else StockShard.held
        actions.append(counter.add(-pool_quantity))
        condition &= counter >= pool_quantity
    if refunded_pool:
        actions.append(StockShard.refunded_minor.add(refunded_pool))
    for line in lines:
        entry = StockShard.types[line.ticket_type_id]
        actions.append(entry[state].set(entry[state] - line.quantity))
        condition &= entry[state] >= line.quantity
    for type_id, amount in (refunded_types or {}).items():
        if not amount:
            continue
        entry = StockShard.types[type_id]
        actions.append(entry["refunded"].set(entry["refunded"] + amount))
    tx.update(_shard_key(event_id, index), actions=actions, condition=condition)
