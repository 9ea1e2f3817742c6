"""Recording changes: each one goes into the change's own TransactWriteItems, so a change and
its record (audit entry, announcement) commit together or not at all."""

from __future__ import annotations

from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import Principal
from chalicelib.db.base import new_id, utcnow
from chalicelib.db.changes import ANNOUNCED_FOR, AUDIT_LOG, Change

# The audit log's actions; any other change type is announced only (e.g. "ticket.sold").
AUDITED = frozenset(
    {
        "user.created",
        "user.deleted",
        "user.blocked",
        "user.unblocked",
        "user.role_changed",
        "user.password_reset",
        "event.created",
        "event.updated",
        "event.deleted",
        "allocation.changed",
        "ticket.cancelled",
        "ticket.buyer_changed",
        "ticket.checked_in",
        "ticket.check_in_undone",
        "scanner.created",
        "scanner.revoked",
        "webhook.created",
        "webhook.revoked",
        "webhook.paused",
        "webhook.disabled",
        "ticket_type.created",
        "ticket_type.updated",
        "ticket_type.deleted",
        "order.cancelled",
        "order.expired",
        "order.refunded",
        "order.disputed",
        "voucher.created",
        "voucher.updated",
        "voucher.deleted",
        "waiting_list.left",
        "waiting_list.prioritised",
    }
)
ANNOUNCED_ONLY = frozenset(
    {"ticket.sold", "order.paid", "link.requested", "waiting_list.joined", "waiting_list.offered"}
)


Detail = str | int | bool | None


def _plain(value: Any) -> Detail:
    """A detail as JSON shows it: numbers and booleans keep their type, the rest is text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def record(
    tx: TransactWrite,
    type_: str,
    *,
    actor: Principal | None,
    target_type: str,
    target_id: str,
    event_id: str | None = None,
    details: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> Change:
    """Add the change's record to the transaction that makes the change."""
    if type_ not in AUDITED | ANNOUNCED_ONLY:
        raise ValueError(f"unknown change type {type_!r}")
    now = utcnow()
    change = Change(
        id=new_id(),
        type=type_,
        at=now,
        actor_id=actor.user_id if actor else None,
        actor_role=actor.role if actor else None,
        target_type=target_type,
        target_id=target_id,
        event_id=event_id,
        details={key: _plain(value) for key, value in (details or {}).items()},
        data=data,
    )
    if type_ in AUDITED:
        change.audit_log = AUDIT_LOG
        change.audit_actor_id = change.actor_id
        change.audit_target_id = target_id
        change.audit_action = type_
        change.audit_event_id = event_id
    else:
        change.expires_at = now + ANNOUNCED_FOR
    tx.save(change, condition=Change.id.does_not_exist())
    return change
