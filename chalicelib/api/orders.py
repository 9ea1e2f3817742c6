"""Orders: /orders, /orders/{id}, paying, cancelling and refunding them."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint, Param
from chalicelib.api.checkout_page import checkout_page
from chalicelib.api.pages import HTML, html_page
from chalicelib.api.requests import choice_param, id_param, page_params, parse_body, source_ip
from chalicelib.api.responses import model_response, page_response
from chalicelib.api.tickets import ticket_out
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import SELLER_ROLES, optional_principal, principal_of
from chalicelib.auth.tokens import issue_order_token
from chalicelib.db.orders import RESERVED, SETTLED, STATUSES, STRIPE, Order, Refund
from chalicelib.db.tickets import Ticket
from chalicelib.errors import Forbidden, InvalidRequest, NotFound, Unauthorized
from chalicelib.money import from_minor
from chalicelib.services.operations import limits
from chalicelib.services.sales import orders, payments, refunds
from chalicelib.services.sales.buyers import BuyerDetails

bp = ApiBlueprint(__name__)
TAG = "orders"


def payment_out(order: Order) -> schemas.responses.PaymentOut | None:
    if order.payment_provider != STRIPE:
        return None
    return schemas.responses.PaymentOut(
        provider=STRIPE,
        client_secret=order.client_secret if order.status == RESERVED else None,
        checkout_url=payments.checkout_url(order),
    )


def refund_out(order: Order, refund: Refund) -> schemas.responses.RefundOut:
    return schemas.responses.RefundOut(
        id=refund.id, amount=from_minor(refund.amount_minor, order.currency_code),
        currency_code=order.currency_code, status=refund.status, source=refund.source,
        reason=refund.reason, ticket_ids=refund.ticket_ids, created_at=refund.created_at,
    )  # fmt: skip


def _money(order: Order, minor: int | None) -> str | None:
    return from_minor(int(minor), order.currency_code) if minor is not None else None


def order_out(
    order: Order, tickets: list[Ticket] | None = None, *, full: bool = False
) -> schemas.responses.OrderOut:
    """`full`: one order read on its own (its refunds and dispute too)."""
    currency = order.currency_code
    dispute = order.dispute if full else None
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
                discount=from_minor(int(line.discount_minor or 0), currency),
            )
            for line in order.items
        ],
        total=from_minor(order.total_minor, currency),
        voucher=order.voucher_code,
        currency_code=currency,
        created_at=order.created_at,
        expires_at=order.expires_at,
        paid_at=order.paid_at,
        ended_at=order.ended_at,
        payment=payment_out(order),
        tickets=[ticket_out(t) for t in tickets] if tickets is not None else None,
        paid=_money(order, order.paid_minor),
        refunded=_money(order, order.refunded_minor or 0) if order.paid_minor is not None else None,
        refunds=[refund_out(order, r) for r in order.refunds or []] if full else None,
        dispute=schemas.responses.DisputeOut(
            id=dispute.id, amount=from_minor(dispute.amount_minor, currency),
            reason=dispute.reason, status=dispute.status, created_at=dispute.created_at,
        ) if dispute is not None else None,
    )  # fmt: skip


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
    "(`hold_minutes`), then `expired` and the stock back on sale within a minute, unless paid "
    "by card first: `payment` holds the Stripe PaymentIntent's `client_secret` (for your own "
    "Stripe.js page) and `checkout_url` (ours). Card payments not configured on this server: "
    "503 `payments_not_configured`, nothing held. A type not "
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
        Param(
            "X-Admission",
            "For an event with an on-sale queue, from its `opens_at` on: the admission the "
            "queue gave (GET /queue/{queue_token}); without it 403 `admission_required`, "
            "used already 409 `admission_used`. Sellers and admins need none.",
            {"type": "string", "minLength": 1, "maxLength": 2048},
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
        voucher=body.voucher,
        admission=request.headers.get("x-admission"),
    )
    order = payments.start_payment(placed.order)
    token = issue_order_token(order_id=order.id, event_time=placed.event_time)
    out = schemas.responses.PlacedOrderOut(
        order=order_out(order, placed.tickets if order.status in SETTLED else None),
        order_token=token.auth_token,
        email="queued" if order.status in SETTLED else None,
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
    "sweep has not got to it yet. While a card payment is under way this asks Stripe, and "
    "settles a payment whose webhook has not arrived (a lost webhook only delays the answer).",
    tag=TAG,
    responses={200: "responses.OrderEnvelope"},
)
def get_order(order_id: str) -> Response:
    found = payments.read_order(actor=principal_of(bp.current_request), order_id=order_id)
    tickets = found.tickets if found.order.status in SETTLED else None
    out = order_out(found.order, tickets, full=True)
    return model_response(schemas.responses.OrderEnvelope(order=out))


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


@bp.route(
    "/orders/{order_id}/pay",
    methods=["POST"],
    authorizer=bearer_auth,
    summary="Pay a reserved order by card (its order token or checkout link's token)",
    description="`card_token` is what Stripe.js made of the card in the buyer's browser "
    "(`stripe.createToken(cardElement)`); the API never sees card numbers. Stripe's answer "
    "settles the order at once: `paid` with its tickets. A declined card: 402 `card_declined` "
    "with the bank's reason, the order still reserved (try another card). A card asking for "
    "3-D Secure: `next_action: authenticate` with the intent's `client_secret` for Stripe.js; "
    "then read the order. Not reserved any more: 409 `order_not_reserved`.",
    tag=TAG,
    body="orders.PayBody",
    responses={200: "responses.PayOut", 402: None, 403: None, 409: None, 502: None},
)
def pay_order(order_id: str) -> Response:
    request = bp.current_request
    body = parse_body(request, schemas.orders.PayBody)
    result = payments.pay_order(
        actor=principal_of(request), order_id=order_id, card_token=body.card_token
    )
    order = result.order
    tickets = orders.tickets_of(order) if order.status in SETTLED else None
    out = schemas.responses.PayOut(
        order=order_out(order, tickets),
        next_action="authenticate" if result.action_secret else None,
        client_secret=result.action_secret,
    )
    return model_response(out)


@bp.route(
    "/orders/{order_id}/refunds",
    methods=["POST"],
    authorizer=bearer_auth,
    summary="Refund a paid order: all of it, some tickets, or an amount (the event's organizer, "
    "admin)",
    description="Never more than was paid, also under parallel requests: 409 "
    "`refund_exceeds_payment`. Refunded tickets are cancelled (they fail check-in, are listed "
    "as revoked) and their seats go back on sale in the same transaction; an amount alone "
    "keeps the tickets valid. A card payment is refunded through Stripe (the refund's id as "
    "idempotency key; `pending` until Stripe confirms, tried again when the order is read); "
    "an offline payment is recorded. Not paid: 409 `order_not_paid`.",
    tag=TAG,
    body="orders.RefundBody",
    responses={201: "responses.RefundEnvelope", 403: None, 404: None, 409: None},
)
def refund_order(order_id: str) -> Response:
    request = bp.current_request
    body = parse_body(request, schemas.orders.RefundBody)
    order, refund = refunds.refund_order(
        actor=principal_of(request), order_id=order_id, amount=body.amount,
        ticket_ids=body.ticket_ids, reason=body.reason,
    )  # fmt: skip
    return model_response(
        schemas.responses.RefundEnvelope(refund=refund_out(order, refund)), status=201
    )


@bp.route(
    "/orders/{order_id}/refunds",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="An order's refunds (as GET /orders/{id})",
    tag=TAG,
    responses={200: "responses.RefundList"},
)
def list_refunds(order_id: str) -> Response:
    order = payments.read_order(actor=principal_of(bp.current_request), order_id=order_id).order
    items = [refund_out(order, r) for r in refunds.list_refunds(order)]
    return model_response(schemas.responses.RefundList(refunds=items))


@bp.route(
    "/orders/{order_id}/pay",
    methods=["GET"],
    summary="The checkout page: an order's lines, total, time left and a card form (the link "
    "in `payment.checkout_url`)",
    description="Plain HTML for a person, the card form driven by Stripe.js (the card goes to "
    "Stripe, never to this API). After paying it shows the tickets and their QR codes; a "
    "declined card shows the bank's reason and the order stays reserved; after the hold ends "
    "it says so. `token` is the signed token the link carries (an order token works too). "
    "A missing, wrong or expired token: 400, as a page.",
    tag=TAG,
    query=(Param("token", "The signed token of the checkout link."),),
    responses={200: HTML, 400: HTML},
)
def checkout(order_id: str) -> Response:
    token = (bp.current_request.query_params or {}).get("token", "")
    try:
        view = payments.checkout_view(order_id=order_id, token=token)
    except (Unauthorized, Forbidden, NotFound, InvalidRequest):
        return html_page(
            title="Link not valid",
            message="This checkout link is not valid or has expired. Check that you copied "
            "all of it, or place a new order.",
            status=400,
        )
    return checkout_page(
        order=view.order, tickets=view.tickets, event_title=view.event_title, token=token,
        now=view.now,
    )  # fmt: skip
