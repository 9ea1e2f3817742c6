"""Webhooks: subscribe an HTTPS endpoint to what happens to your things."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint
from chalicelib.api.requests import page_params, parse_body
from chalicelib.api.responses import model_response, no_content, page_response
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.db.base import utcnow
from chalicelib.db.deliveries import Delivery
from chalicelib.db.webhooks import Webhook
from chalicelib.services.stream import webhook_deliveries, webhooks

bp = ApiBlueprint(__name__)
TAG = "webhooks"


def webhook_out(webhook: Webhook) -> schemas.responses.WebhookOut:
    paused = (
        webhook.paused_until if webhook.paused_until and webhook.paused_until > utcnow() else None
    )
    return schemas.responses.WebhookOut(
        id=webhook.id, url=webhook.url, events=sorted(webhook.types), active=webhook.active,
        disabled_reason=webhook.disabled_reason, created_at=webhook.created_at,
        paused_until=paused,
    )  # fmt: skip


def delivery_out(delivery: Delivery) -> schemas.responses.DeliveryOut:
    return schemas.responses.DeliveryOut(
        id=delivery.id, event_id=delivery.change_id, type=delivery.type,
        status=delivery.status, attempts=int(delivery.attempts or 0),
        last_status=int(delivery.last_status) if delivery.last_status is not None else None,
        delivered_at=delivery.delivered_at, next_attempt_at=delivery.next_attempt_at,
    )  # fmt: skip


@bp.route(
    "/webhooks",
    methods=["POST"],
    authorizer=bearer_auth,
    summary="Subscribe an HTTPS endpoint (organizer, reseller, admin)",
    description="Types: ticket.sold, ticket.cancelled, ticket.checked_in, event.created, "
    "event.updated, event.deleted, allocation.changed, order.paid, order.expired, "
    "order.refunded, order.disputed; admins also user.blocked, user.unblocked. An organizer "
    "hears about its events, a reseller about its own sales and allocations, an admin about "
    "everything. Each delivery is a POST of `{id, type, created_at, data}` signed per Standard "
    "Webhooks; at least once; a 2xx within 10 s is delivered, otherwise retried after 5 s, "
    "5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 14 h, 14 h and 16 h (three days; the scheduled ones "
    "within a minute of that); 410 disables the webhook. At most 2 deliveries are in flight "
    "to one webhook and 5 to one account's webhooks together (the rest wait a few seconds, "
    "uncounted). After 5 attempts in a row without an answer the webhook is paused for 1 min, "
    "then 5 min, 30 min and 2 h (deliveries wait, uncounted; one is tried after each pause, "
    "and any answer resumes them), and after that it is disabled; its owner is emailed at "
    "the first pause and when it is disabled. `paused_until` and `disabled_reason` show "
    "where it stands.",
    tag=TAG,
    body="webhooks.CreateWebhookBody",
    responses={201: "responses.WebhookCreatedOut", 409: None},
)
def create_webhook() -> Response:
    body = parse_body(bp.current_request, schemas.webhooks.CreateWebhookBody)
    webhook, secret = webhooks.create(
        actor=principal_of(bp.current_request), url=body.url, types=body.events
    )
    out = schemas.responses.WebhookCreatedOut(webhook=webhook_out(webhook), secret=secret)
    return model_response(out, status=201)


@bp.route(
    "/webhooks",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="My webhooks (admins: all)",
    tag=TAG,
    query=PAGE_PARAMS,
    responses={200: "responses.WebhookPage"},
)
def list_webhooks() -> Response:
    limit, next_token = page_params(bp.current_request)
    page = webhooks.list_webhooks(
        actor=principal_of(bp.current_request), limit=limit, next_token=next_token
    )
    return page_response(schemas.responses.WebhookPage, "webhooks", page, webhook_out)


@bp.route(
    "/webhooks/{webhook_id}",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="One webhook (its owner, admin)",
    tag=TAG,
    responses={200: "responses.WebhookEnvelope"},
)
def get_webhook(webhook_id: str) -> Response:
    webhook = webhooks.get(actor=principal_of(bp.current_request), webhook_id=webhook_id)
    return model_response(schemas.responses.WebhookEnvelope(webhook=webhook_out(webhook)))


@bp.route(
    "/webhooks/{webhook_id}",
    methods=["DELETE"],
    authorizer=bearer_auth,
    summary="Delete a webhook (its owner, admin)",
    tag=TAG,
    responses={204: None},
)
def delete_webhook(webhook_id: str) -> Response:
    webhooks.delete(actor=principal_of(bp.current_request), webhook_id=webhook_id)
    return no_content()


@bp.route(
    "/webhooks/{webhook_id}/deliveries",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="The webhook's delivery log, newest first (its owner, admin)",
    tag=TAG,
    query=PAGE_PARAMS,
    responses={200: "responses.DeliveryPage"},
)
def list_deliveries(webhook_id: str) -> Response:
    limit, next_token = page_params(bp.current_request)
    page = webhooks.deliveries(
        actor=principal_of(bp.current_request), webhook_id=webhook_id, limit=limit,
        next_token=next_token,
    )  # fmt: skip
    return page_response(schemas.responses.DeliveryPage, "deliveries", page, delivery_out)


@bp.route(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    methods=["POST"],
    authorizer=bearer_auth,
    summary="Deliver again now (its owner, admin)",
    description="The attempt is queued at once and made within seconds (202: the answer shows "
    "the delivery as queued, `pending`); its outcome appears in the delivery log.",
    tag=TAG,
    responses={202: "responses.DeliveryOut"},
)
def retry_delivery(webhook_id: str, delivery_id: str) -> Response:
    delivery = webhook_deliveries.retry_now(
        actor=principal_of(bp.current_request), webhook_id=webhook_id, delivery_id=delivery_id
    )
    return model_response(delivery_out(delivery), status=202)
