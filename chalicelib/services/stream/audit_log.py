"""The audit log: every audited change, newest first, by actor, target, action or event."""

from __future__ import annotations

import functools

from chalicelib.auth.principal import Principal
from chalicelib.db.changes import AUDIT_LOG, Change
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.errors import Forbidden, InvalidRequest
from chalicelib.services.sales.events import owned_event
from chalicelib.services.stream.changes import AUDITED


def audit_log(
    *,
    actor: Principal,
    actor_id: str | None = None,
    target_id: str | None = None,
    action: str | None = None,
    limit: int,
    next_token: str | None,
) -> Page[Change]:
    """The audit log, newest first (admins): one index Query, the narrowest the filters allow,
    the other filters applied to its page."""
    if not actor.is_admin:
        raise Forbidden()
    if action is not None and action not in AUDITED:
        raise InvalidRequest(details={"action": f"One of: {', '.join(sorted(AUDITED))}."})
    filters = {"actor_id": actor_id, "target_id": target_id, "action": action}
    if target_id is not None:
        index, key, rest = Change.by_target, target_id, ("actor_id", "action")
    elif actor_id is not None:
        index, key, rest = Change.by_actor, actor_id, ("action",)
    elif action is not None:
        index, key, rest = Change.by_action, action, ()
    else:
        index, key, rest = Change.audit_log_index, AUDIT_LOG, ()
    condition = None
    for name in rest:
        if filters[name] is not None:
            attribute = Change.actor_id if name == "actor_id" else Change.type
            term = attribute == filters[name]
            condition = term if condition is None else condition & term
    query = functools.partial(
        index.query, key, scan_index_forward=False, filter_condition=condition
    )
    scope = "audit:" + ":".join(f"{k}={v}" for k, v in sorted(filters.items()))
    return fetch_page(Change, query, scope=scope, limit=limit, next_token=next_token)


def event_audit_log(
    *, actor: Principal, event_id: str, limit: int, next_token: str | None
) -> Page[Change]:
    """One event's entries, newest first (its organizer, admins)."""
    owned_event(actor, event_id)
    query = functools.partial(Change.by_event.query, event_id, scan_index_forward=False)
    return fetch_page(Change, query, scope=f"audit:event={event_id}", limit=limit,
                      next_token=next_token)  # fmt: skip
