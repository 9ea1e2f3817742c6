"""Sending slots: how many deliveries may be in flight at once to one place. A slot is an
attribute holding the millisecond its holder's lease runs out; taking one is a conditional
write (free, or its lease over), so the cap holds across every process, and a sender that
crashes frees its slot when the lease runs out. An endpoint's slots live on its webhook item;
an account's (all its endpoints together) on an item of this table."""

from __future__ import annotations

import random
import time

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from chalicelib.db.base import TableModel, get_or_none, table_meta
from chalicelib.db.transactions import condition_failed


class AccountSlots(TableModel):
    Meta = table_meta("sending-slots")

    key = UnicodeAttribute(hash_key=True)  # "account:<user id>"
    slot_0 = NumberAttribute(null=True)
    slot_1 = NumberAttribute(null=True)
    slot_2 = NumberAttribute(null=True)
    slot_3 = NumberAttribute(null=True)
    slot_4 = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)  # gone once every lease on it has run out


ACCOUNT_SLOTS = ("slot_0", "slot_1", "slot_2", "slot_3", "slot_4")


def now_ms() -> int:
    return int(time.time() * 1000)


def free(item: Model | None, names: tuple[str, ...], at_ms: int) -> list[str]:
    """The slots of `item` free at `at_ms` (all of them if there is no item), in random order
    so that concurrent senders spread over them."""
    found = [n for n in names if item is None or (getattr(item, n) or 0) < at_ms]
    random.shuffle(found)
    return found


def take(
    item: Model,
    names: tuple[str, ...],
    lease_ms: int,
    *,
    known: Model | None = None,
    also: Condition | None = None,
    extra: list | None = None,
) -> tuple[str, int] | None:
    """Take a free slot of `item` until `lease_ms` from now; (slot, until), or None when all
    are busy (or `also` is false). `known` is what was last read of it, to skip busy slots;
    without it one slot is tried blind (one write when there is room, the usual case) and the
    item is read only if that one was busy."""
    at = now_ms()
    until = at + lease_ms
    model = type(item)
    candidates = free(known, names, at)
    if known is None:
        first = _try(item, candidates[0], until, at, also, extra)
        if first is not None:
            return first
        key = getattr(item, model._hash_key_attribute().attr_name)
        known = get_or_none(model, key, consistent_read=True)
        if known is None:
            return None  # no such item: `also` refused it
        candidates = [n for n in free(known, names, at) if n != candidates[0]]
    for name in candidates:
        taken = _try(item, name, until, at, also, extra)
        if taken is not None:
            return taken
    return None


def _try(
    item: Model, name: str, until: int, at: int, also: Condition | None, extra: list | None
) -> tuple[str, int] | None:
    attribute = getattr(type(item), name)
    condition = attribute.does_not_exist() | (attribute < at)
    if also is not None:
        condition &= also
    try:
        item.update(actions=[attribute.set(until), *(extra or [])], condition=condition)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return None
    return name, until


def release(item: Model, name: str, until: int) -> None:
    """Give the slot back, unless its lease ran out and someone else holds it now."""
    attribute = getattr(type(item), name)
    try:
        item.update(actions=[attribute.remove()], condition=attribute == until)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
