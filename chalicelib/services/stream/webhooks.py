"""Webhooks: subscriptions, and their signing secrets. Deliveries are made from the event
stream (services/stream/webhook_deliveries.py), signed per the Standard Webhooks spec.

A webhook's secret is not stored: it is derived from the deployment's signing key
(JWT_SECRET) and the webhook's id, shown once at creation and recomputed to sign.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging

from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import ADMIN, ORGANIZER, RESELLER, Principal
from chalicelib.db import transactions
from chalicelib.db.base import get_or_none, new_id
from chalicelib.db.deliveries import (
    Delivery,
)
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.db.webhooks import Webhook
from chalicelib.errors import Conflict, Forbidden, InvalidRequest, NotFound
from chalicelib.services.stream import endpoints
from chalicelib.services.stream.changes import record as record_change
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
        "waiting_list.offered",
    }
)
ADMIN_TYPES = TYPES | {"user.blocked", "user.unblocked"}
MAX_WEBHOOKS_PER_OWNER = 20


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
