"""Stripe's webhook: POST /payments/stripe."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import ApiBlueprint, Param
from chalicelib.api.responses import model_response
from chalicelib.payments import stripe_api
from chalicelib.services.sales import payments

bp = ApiBlueprint(__name__)
TAG = "payments"


@bp.route(
    "/payments/stripe",
    methods=["POST"],
    summary="Stripe's webhook receiver (Stripe only: the signature decides)",
    description="`Stripe-Signature` is verified against the webhook secret (at most 300 s "
    "old): bad, missing or stale → 400 `bad_signature`. Each Stripe event id is acted on "
    "once. `payment_intent.succeeded`: the order is paid and its tickets issued in one "
    "transaction (amount and currency checked: 400 `payment_mismatch`; an order we do not "
    "know: 404 `unknown_order`); after its hold ended, the stock is taken again if every limit "
    "allows, else the payment is refunded in full and the buyer emailed why. "
    "`charge.refunded` (a refund made in Stripe's dashboard) is recorded; "
    "`charge.dispute.created` is recorded on the order and announced. Other types: 200, "
    "ignored.",
    tag=TAG,
    body="payments.StripeEventBody",
    headers=(
        Param(
            "Stripe-Signature",
            "Stripe's signature of the body: `t=<unix time>,v1=<HMAC-SHA256 hex>`.",
            {"type": "string", "maxLength": 1024},
        ),
    ),
    responses={200: "responses.StripeReceipt", 400: None, 404: None},
)
def stripe_webhook() -> Response:
    request = bp.current_request
    event = stripe_api.verify_event(
        request.raw_body or b"", request.headers.get("stripe-signature")
    )
    outcome = payments.handle_event(event)
    return model_response(schemas.responses.StripeReceipt(received=True, outcome=outcome))
