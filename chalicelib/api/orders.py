"""Orders: /orders, /orders/{id} and /orders/{id}/cancel."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint, Param
from chalicelib.api.requests import choice_param, id_param, page_params, parse_body, source_ip
from chalicelib.api.responses import model_response, page_response
from chalicelib.api.tickets import ticket_out
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import SELLER_ROLES, optional_principal, principal_of
from chalicelib.auth.tokens import issue_order_token
from chalicelib.db.orders import PAID, STATUSES, Order
from chalicelib.db.tickets import Ticket
from chalicelib.money import from_minor
from chalicelib.services import limits, orders
from chalicelib.services.buyers import BuyerDetails

bp = ApiBlueprint(__name__)
TAG = "orders"


def order_out(order: Order, tickets: list[Ticket] | None = None) -> schemas.responses.OrderOut:
    currency = order.currency_code
    return schemas.responses.OrderOut(
        id=order.id,
        status=order.status,
        event_id=order.event_id,
        seller_id=order.seller_id,
        buyer_id=order.buyer_id,
        items=[
            schemas.responses.OrderLineOut(
                ticket_type_id=line.ticket_type_id,
                name=line.name,
                quantity=line.quantity,
                unit_price=from_minor(line.unit_price_minor, currency),
            )
            for line in order.items
        ],
        total=from_minor(order.total_minor, currency),
        currency_code=currency,
        created_at=order.created_at,
        expires_at=order.expires_at,
        paid_at=order.paid_at,
        ended_at=order.ended_at,
        payment=None,  # card payments come with the Stripe integration
        tickets=[ticket_out(t) for t in tickets] if tickets is not None else None,
    )


@bp.route(
    "/orders",
    methods=["POST"],
    optional_auth=True,
    summary="Order tickets of one or more types (anyone; a seller may order for a buyer)",
    description="Takes every line's stock in one transaction against every limit it counts "
    "against (the type's quantity, the event's capacity, the seller's stock): all or nothing; "
    'short: 409 "Event sold out." with `details` per ticket type. Prices come from the server. '
    "An `offline` event, a total of 0, or a seller recording its own sale: `paid` at once, "
    "tickets issued, confirmation queued. Otherwise `reserved` until `expires_at` "
    "(`hold_minutes`), then `expired` and the stock back on sale within a minute. A type not "
    "on sale or outside its sale window: 409 `not_on_sale`; more than its `max_per_order`: "
    "400. A buyer holds at most RESERVED_ORDERS_PER_BUYER (default 3) reserved orders per "
    "event: 409 `too_many_reserved_orders`.",
    tag=TAG,
    body="orders.OrderBody",
    headers=(
        Param(
            "Idempotency-Key",
            "Retrying with the same key and body returns the first order instead of ordering "
            "again; another body is 422. Kept 24 hours.",
            {"type": "string", "minLength": 1, "maxLength": 255},
        ),
    ),
    responses={201: "responses.PlacedOrderOut", 403: None, 404: None, 409: None, 422: None},
    limited=True,
)
def place_order() -> Response:
    request = bp.current_request
    body = parse_body(request, schemas.orders.OrderBody)
    actor = optional_principal(request)
    if actor is not None and actor.role in SELLER_ROLES:
        limits.enforce(booking_seller=actor.user_id)
    else:
        limits.enforce(order_ip=source_ip(request))
    placed = orders.place_order(
        actor=actor,
        event_id=body.event_id,
        seller_id=body.seller_id,
        lines=[orders.LineRequest(i.ticket_type_id, i.quantity) for i in body.items],
        buyer=BuyerDetails(**body.buyer.model_dump()),
        idempotency_key=request.headers.get("idempotency-key"),
    )
    order = placed.order
    token = issue_order_token(order_id=order.id, event_time=placed.event_time)
    out = schemas.responses.PlacedOrderOut(
        order=order_out(order, placed.tickets if order.status == PAID else None),
        order_token=token.auth_token,
        email="queued" if order.status == PAID else None,
    )
    return model_response(out, status=201)


@bp.route(
    "/orders",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="Orders (admin: all; organizer: their events; reseller: its sales)",
    tag=TAG,
    query=(
        Param("event_id", "Only this event's orders."),
        Param("status", "Only orders in this status.", {"enum": list(STATUSES)}),
        *PAGE_PARAMS,
    ),
    responses={200: "responses.OrderPage", 404: None},
)
def list_orders() -> Response:
    request = bp.current_request
    limit, next_token = page_params(request)
    page = orders.list_orders(
        actor=principal_of(request),
        event_id=id_param(request, "event_id"),
        status=choice_param(request, "status", STATUSES),
        limit=limit,
        next_token=next_token,
    )
    return page_response(schemas.responses.OrderPage, "orders", page, order_out)


@bp.route(
    "/orders/{order_id}",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="One order, with its tickets once paid (its order token, its buyer, the seller, "
    "the event's organizer, admin)",
    description="A reserved order past `expires_at` is expired here (its stock back) if the "
    "sweep has not got to it yet.",
    tag=TAG,
    responses={200: "responses.OrderEnvelope"},
)
def get_order(order_id: str) -> Response:
    found = orders.get_order(actor=principal_of(bp.current_request), order_id=order_id)
    tickets = found.tickets if found.order.status == PAID else None
    return model_response(schemas.responses.OrderEnvelope(order=order_out(found.order, tickets)))


@bp.route(
    "/orders/{order_id}/cancel",
    methods=["POST"],
    authorizer=bearer_auth,
    summary="Cancel a reserved order: its stock back at once (its order token, the seller, the "
    "event's organizer, admin)",
    description="Not reserved (paid, expired, cancelled): 409 `order_not_reserved`.",
    tag=TAG,
    responses={200: "responses.OrderEnvelope", 409: None},
)
def cancel_order(order_id: str) -> Response:
    order = orders.cancel_order(actor=principal_of(bp.current_request), order_id=order_id)
    return model_response(schemas.responses.OrderEnvelope(order=order_out(order)))
