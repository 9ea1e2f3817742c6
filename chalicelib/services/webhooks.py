"""Webhooks: subscriptions, and their deliveries signed per the Standard Webhooks spec.

Deliveries are made from the event stream (chalicelib/services/announcements.py calls
`fan_out`), at least once: the first attempt right away, then on RETRY_AFTER's schedule for
up to three days (`retry_due`, run every minute). A 2xx within TIMEOUT_S is delivered; `410
Gone` disables the webhook. Every attempt of one change sends the same body with the same
`webhook-id` (the change's id), so receivers can drop repeats.

A webhook's secret is not stored: it is derived from the deployment's signing key
(JWT_SECRET) and the webhook's id, shown once at creation and recomputed to sign.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import ADMIN, ORGANIZER, RESELLER, Principal
from chalicelib.db import transactions
from chalicelib.db.base import get_or_none, new_id, utcnow
from chalicelib.db.changes import Change
from chalicelib.db.deliveries import (
    DELIVERED,
    DISABLED,
    DUE,
    FAILED,
    PENDING,
    Delivery,
)
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.db.transactions import condition_failed
from chalicelib.db.users import User
from chalicelib.db.webhooks import Webhook
from chalicelib.errors import Conflict, Forbidden, InvalidRequest, NotFound
from chalicelib.services import endpoints
from chalicelib.services.changes import record as record_change
from chalicelib.settings import get_settings

log = logging.getLogger(__name__)

TYPES = frozenset(
    {
        "ticket.sold",
        "ticket.cancelled",
        "ticket.checked_in",
        "event.created",
        "event.updated",
        "event.deleted",
        "allocation.changed",
        "order.paid",
        "order.expired",
        "order.refunded",
        "order.disputed",
    }
)
ADMIN_TYPES = TYPES | {"user.blocked", "user.unblocked"}
# After the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 14 h, 14 h, 16 h
# (71 h 35 min in all: the last attempt comes within three days of the change).
RETRY_AFTER = tuple(
    timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 36000, 50400, 50400, 57600)
)
TIMEOUT_S = 10
ATTEMPT_LEASE = timedelta(seconds=TIMEOUT_S * 3)
MAX_WEBHOOKS_PER_OWNER = 20
DUE_PER_RUN = 100


def _roles_types(role: str | None) -> frozenset[str]:
    if role == ADMIN:
        return ADMIN_TYPES
    if role in (ORGANIZER, RESELLER):
        return TYPES
    raise Forbidden()


def secret_for(webhook_id: str) -> str:
    """`whsec_` + base64 of 32 bytes derived from the signing key and the webhook's id."""
    key = get_settings().jwt_secret.encode()
    derived = hmac.new(key, b"webhook-secret:" + webhook_id.encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(derived).decode()


# --- subscriptions ---------------------------------------------------------------------


def create(*, actor: Principal, url: str, types: list[str]) -> tuple[Webhook, str]:
    allowed = _roles_types(actor.role)
    unknown = sorted(set(types) - allowed)
    if unknown:
        raise InvalidRequest(details={"events": f"Not for you: {', '.join(unknown)}."})
    try:
        endpoints.check(url)
    except endpoints.UnsafeEndpoint as exc:
        raise InvalidRequest(details={"url": str(exc)}) from None
    if sum(1 for _ in Webhook.by_owner.query(actor.user_id)) >= MAX_WEBHOOKS_PER_OWNER:
        raise Conflict(f"At most {MAX_WEBHOOKS_PER_OWNER} webhooks each.", code="too_many_webhooks")
    webhook = Webhook(
        id=new_id(), owner_id=actor.user_id, owner_role=actor.role or "", url=url,
        types=set(types), active=True,
    )  # fmt: skip

    def build(tx: TransactWrite) -> None:
        tx.save(webhook, condition=Webhook.id.does_not_exist())
        record_change(
            tx, "webhook.created", actor=actor, target_type="webhook", target_id=webhook.id,
            details={"url": url, "events": ",".join(sorted(types))},
        )  # fmt: skip

    transactions.write(build)
    return webhook, secret_for(webhook.id)


def list_webhooks(*, actor: Principal, limit: int, next_token: str | None) -> Page[Webhook]:
    _roles_types(actor.role)
    if actor.is_admin:
        return fetch_page(Webhook, Webhook.scan, scope="webhooks", limit=limit,
                          next_token=next_token)  # fmt: skip
    query = functools.partial(Webhook.by_owner.query, actor.user_id)
    return fetch_page(Webhook, query, scope=f"webhooks:{actor.user_id}", limit=limit,
                      next_token=next_token)  # fmt: skip


def get(*, actor: Principal, webhook_id: str) -> Webhook:
    webhook = get_or_none(Webhook, webhook_id, consistent_read=True)
    if webhook is None:
        raise NotFound()
    if not (actor.is_admin or webhook.owner_id == actor.user_id):
        raise Forbidden()
    return webhook


def delete(*, actor: Principal, webhook_id: str) -> None:
    webhook = get(actor=actor, webhook_id=webhook_id)

    def build(tx: TransactWrite) -> None:
        tx.delete(webhook, condition=Webhook.id.exists())
        record_change(tx, "webhook.revoked", actor=actor, target_type="webhook",
                      target_id=webhook.id, details={"url": webhook.url})  # fmt: skip

    if not transactions.write_unless_refused(build):
        raise NotFound()


def deliveries(
    *, actor: Principal, webhook_id: str, limit: int, next_token: str | None
) -> Page[Delivery]:
    get(actor=actor, webhook_id=webhook_id)
    query = functools.partial(Delivery.by_webhook.query, webhook_id, scan_index_forward=False)
    return fetch_page(Delivery, query, scope=f"deliveries:{webhook_id}", limit=limit,
                      next_token=next_token)  # fmt: skip


def retry(*, actor: Principal, webhook_id: str, delivery_id: str) -> Delivery:
    """Deliver again now, whatever happened before (a delivered one is sent again too)."""
    get(actor=actor, webhook_id=webhook_id)
    delivery = get_or_none(Delivery, delivery_id, consistent_read=True)
    if delivery is None or delivery.webhook_id != webhook_id:
        raise NotFound()
    now = utcnow()
    delivery.update(
        actions=[Delivery.status.set(PENDING), Delivery.next_attempt_at.set(now),
                 Delivery.due.set(DUE), Delivery.claimed_until.remove()],
    )  # fmt: skip
    attempt(delivery)
    return delivery


# --- deliveries ------------------------------------------------------------------------


def fan_out(change: Change) -> int:
    """Create and attempt the change's delivery to every webhook subscribed to it (once per
    webhook, however often the stream hands the change over). Returns how many were new."""
    if change.type not in ADMIN_TYPES:
        return 0
    created = 0
    for webhook in _subscribers(change):
        delivery = _new_delivery(change, webhook.id)
        if delivery is not None:
            created += 1
            attempt(delivery)
    return created


def _subscribers(change: Change) -> list[Webhook]:
    """The active webhooks that hear of this change, of owners not blocked (nor deleted): a
    blocked account hears nothing of what happens while it is blocked."""
    data = change.data or {}
    owners = {data.get(k) for k in ("organizer_id", "seller_id", "reseller_id")} - {None}
    found = {w.id: w for owner in owners for w in Webhook.by_owner.query(owner)}
    found.update({w.id: w for w in Webhook.by_role.query(ADMIN)})
    hearing = [w for w in found.values() if w.active and change.type in w.types
               and _in_scope(w, data)]  # fmt: skip
    allowed = {owner for owner in {w.owner_id for w in hearing} if _owner_may_hear(owner)}
    return [w for w in hearing if w.owner_id in allowed]


def _owner_may_hear(owner_id: str) -> bool:
    owner = get_or_none(User, owner_id, consistent_read=True)
    return owner is not None and not owner.blocked


def _in_scope(webhook: Webhook, data: dict) -> bool:
    """An organizer hears about its events, a reseller about its sales and allocations, an
    admin about everything."""
    role, owner = webhook.owner_role, webhook.owner_id
    if role == ADMIN:
        return True
    if role == ORGANIZER:
        return data.get("organizer_id") == owner
    return owner in (data.get("seller_id"), data.get("reseller_id"))


def payload_of(change: Change) -> dict:
    data = {k: v for k, v in (change.data or {}).items() if k != "buyer_id"}
    data.update(target_type=change.target_type, target_id=change.target_id)
    if change.event_id:
        data["event_id"] = change.event_id
    at = change.at.isoformat().replace("+00:00", "Z")
    return {"id": change.id, "type": change.type, "created_at": at, "data": data}


def _new_delivery(change: Change, webhook_id: str) -> Delivery | None:
    now = utcnow()
    delivery = Delivery(
        id=f"{change.id}:{webhook_id}", change_id=change.id, destination=webhook_id,
        type=change.type, status=PENDING, attempts=0, webhook_id=webhook_id,
        event_id=change.event_id, payload=payload_of(change), next_attempt_at=now, due=DUE,
        created_at=now,
    )  # fmt: skip
    try:
        delivery.save(condition=Delivery.id.does_not_exist())
    except PutError as exc:
        if not condition_failed(exc):
            raise
        return None  # already fanned out: the retry schedule owns it now
    return delivery


def attempt(delivery: Delivery) -> int | None:
    """One attempt, if nobody else is making one: POST, then record what came of it. The
    answer's HTTP status (0: no answer), or None when no attempt was made."""
    now = utcnow()
    free = Delivery.claimed_until.does_not_exist() | (Delivery.claimed_until < now)
    try:
        delivery.update(
            actions=[Delivery.claimed_until.set(now + ATTEMPT_LEASE)],
            condition=(Delivery.status == PENDING) & free,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return None
    webhook = get_or_none(Webhook, delivery.webhook_id or "", consistent_read=True)
    if webhook is None or not webhook.active:
        _finish(delivery, DISABLED, last_status=delivery.last_status)
        return None
    # While its owner is blocked an attempt sends nothing and counts as unanswered, so the
    # schedule goes on: unblocked in time, a later attempt delivers it.
    status = _post(webhook.url, webhook.id, delivery) if _owner_may_hear(webhook.owner_id) else 0
    attempts = int(delivery.attempts or 0) + 1
    if 200 <= status < 300:
        _finish(delivery, DELIVERED, last_status=status, attempts=attempts)
    elif status == 410:
        webhook.update(actions=[Webhook.active.set(False),
                                Webhook.disabled_reason.set("410 Gone")])  # fmt: skip
        _finish(delivery, DISABLED, last_status=410, attempts=attempts)
    elif attempts > len(schedule := retry_schedule()):
        _finish(delivery, FAILED, last_status=status, attempts=attempts)
    else:
        delivery.update(
            actions=[
                Delivery.attempts.set(attempts),
                Delivery.last_status.set(status),
                Delivery.next_attempt_at.set(now + schedule[attempts - 1]),
                Delivery.due.set(DUE),
                Delivery.claimed_until.remove(),
            ]
        )
    log.info(json.dumps({"event": "webhook_attempt", "delivery": delivery.id,
                         "status": status, "attempts": attempts}))  # fmt: skip
    return status


def _finish(delivery: Delivery, status: str, *, last_status: int | None,
            attempts: int | None = None) -> None:  # fmt: skip
    actions = [Delivery.status.set(status), Delivery.due.remove(),
               Delivery.next_attempt_at.remove(), Delivery.claimed_until.remove()]  # fmt: skip
    if last_status is not None:
        actions.append(Delivery.last_status.set(last_status))
    if attempts is not None:
        actions.append(Delivery.attempts.set(attempts))
    if status == DELIVERED:
        actions.append(Delivery.delivered_at.set(utcnow()))
    delivery.update(actions=actions)


def _post(url: str, webhook_id: str, delivery: Delivery) -> int:
    """POST the signed body to the address checked just now; no redirects followed."""
    from standardwebhooks import Webhook as Signer

    try:
        target = endpoints.check(url)
    except endpoints.UnsafeEndpoint as exc:
        log.warning("webhook %s not delivered: %s", webhook_id, exc)
        return 0
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
    sent_at = utcnow()
    headers = {
        "Content-Type": "application/json",
        "webhook-id": delivery.change_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Signer(secret_for(webhook_id)).sign(delivery.change_id, sent_at, body),
        "User-Agent": "events-api-webhooks/1",
    }
    return endpoints.post(target, body.encode(), headers, TIMEOUT_S)


def retry_schedule() -> tuple[timedelta, ...]:
    custom = get_settings().webhook_retry_after
    return tuple(timedelta(seconds=s) for s in custom) if custom else RETRY_AFTER


def retry_due(now: datetime | None = None) -> int:
    """Attempt the deliveries whose next attempt is due (run every minute); returns how many."""
    now = now or utcnow()
    due = Delivery.due_index.query(DUE, Delivery.next_attempt_at <= now, limit=DUE_PER_RUN)
    count = 0
    for delivery in due:
        if attempt(delivery) is not None:
            count += 1
    return count
