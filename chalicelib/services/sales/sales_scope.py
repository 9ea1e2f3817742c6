"""Who sees which sales: the one rule behind the lists of tickets and of orders."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.auth.principal import ADMIN, ORGANIZER, RESELLER, Principal
from chalicelib.errors import Forbidden
from chalicelib.services.sales.events import owned_event


def sales_query(
    model: Any, *, actor: Principal, event_id: str | None, condition: Condition | None = None
) -> Callable[..., Any]:
    """The Query (an admin's Scan) over `model`'s items the actor may see: admins all,
    organizers their events', resellers their own sales; `event_id` narrows it (an organizer's
    only to its own event). `model` has the event, organizer and seller indexes."""
    if event_id and actor.role in (ADMIN, ORGANIZER):
        if actor.role == ORGANIZER:
            owned_event(actor, event_id)
        return functools.partial(model.by_event.query, event_id, filter_condition=condition)
    if actor.role == ADMIN:
        return functools.partial(model.scan, filter_condition=condition)
    if actor.role == ORGANIZER:
        return functools.partial(
            model.by_organizer.query, actor.user_id, filter_condition=condition
        )
    if actor.role == RESELLER:
        if event_id:
            of_event = model.event_id == event_id
            condition = of_event if condition is None else of_event & condition
        return functools.partial(model.by_seller.query, actor.user_id, filter_condition=condition)
    raise Forbidden()
