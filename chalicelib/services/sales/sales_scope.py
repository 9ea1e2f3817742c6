"""Who sees which sales: the one rule behind the lists of tickets and of orders."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.auth.principal import ADMIN, ORGANIZER, RESELLER, Principal
from chalicelib.db import index_parts
from chalicelib.db.base import get_or_none
from chalicelib.db.events import Event
from chalicelib.errors import Forbidden
from chalicelib.services.sales.events import owned_event


def sales_query(
    model: Any, *, actor: Principal, event_id: str | None, condition: Condition | None = None
) -> Callable[..., Any] | list[Callable[..., Any]]:
    """The Query (an admin's Scan) over `model`'s items the actor may see: admins all,
    organizers their events', resellers their own sales; `event_id` narrows it (an organizer's
    only to its own event). `model` has the event, organizer and seller indexes, whose keys
    are write-sharded for a hot sale: one Query per part (db/index_parts.py)."""
    if event_id and actor.role in (ADMIN, ORGANIZER):
        event = owned_event(actor, event_id) if actor.role == ORGANIZER else get_or_none(
            Event, event_id)  # fmt: skip
        shards = event.stock_shard_items if event is not None else None
        return _per_part(model.by_event, index_parts.event_parts(event_id, shards), condition)
    if actor.role == ADMIN:
        return functools.partial(model.scan, filter_condition=condition)
    if actor.role == ORGANIZER:
        return _per_part(model.by_organizer, index_parts.owner_parts(actor.user_id), condition)
    if actor.role == RESELLER:
        if event_id:
            of_event = model.event_id == event_id
            condition = of_event if condition is None else of_event & condition
        return _per_part(model.by_seller, index_parts.owner_parts(actor.user_id), condition)
    raise Forbidden()


def _per_part(index: Any, keys: list[str], condition: Condition | None) -> list[Callable[..., Any]]:
    return [functools.partial(index.query, key, filter_condition=condition) for key in keys]
