"""Stripe through its official SDK (a StripeClient on our settings), answering in `base` types.

The SDK is imported on first use: it takes about a third of a second to load, which only the
requests that pay or refund should spend. Locally and in the tests the API base is
localstripe's, a stateful fake that ignores idempotency keys and accepts refunds above the
amount paid, so the callers never rely on Stripe for either (see services.sales.payments).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.payments.base import (
    BadSignature,
    CardDeclined,
    Intent,
    PaymentProviderUnavailable,
    PaymentsNotConfigured,
    ProviderEvent,
    ProviderRefund,
)
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    import stripe

log = logging.getLogger(__name__)

TIMEOUT_S = 10
# The SDK retries a failed connection itself, with the same idempotency key.
NETWORK_RETRIES = 2
# How old a signed webhook may be: Stripe's own default, which bounds a replay.
SIGNATURE_TOLERANCE_S = 300


def configured() -> bool:
    return bool(get_settings().stripe_secret_key)


@lru_cache(maxsize=4)
def _client_for(api_key: str, api_url: str) -> stripe.StripeClient:
    import stripe

    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_url},
        http_client=stripe.RequestsClient(timeout=TIMEOUT_S),
        max_network_retries=NETWORK_RETRIES,
    )


def _client() -> stripe.StripeClient:
    settings = get_settings()
    if not settings.stripe_secret_key:
        raise PaymentsNotConfigured()
    return _client_for(settings.stripe_secret_key, settings.stripe_api_url)


def _call(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """One SDK call, its failures mapped to ours (a decline is the buyer's, the rest Stripe's)."""
    import stripe

    try:
        result = fn(*args, **kwargs)
    except stripe.CardError as exc:
        raise CardDeclined(exc.user_message or CardDeclined.message) from exc
    except stripe.StripeError as exc:
        log.warning("stripe %s failed: %s %s", what, exc.http_status, exc.user_message or exc)
        raise PaymentProviderUnavailable() from exc
    return result.to_dict()  # plain data from here on (the SDK's objects refuse dict methods)


def _intent(raw: Any) -> Intent:
    error = raw.get("last_payment_error") or None
    return Intent(
        id=raw["id"],
        status=raw["status"],
        amount_minor=int(raw["amount"]),
        currency_code=str(raw["currency"]).upper(),
        client_secret=raw["client_secret"],
        order_id=(raw.get("metadata") or {}).get("order_id"),
        failure=(error or {}).get("message"),
        tried=bool(raw.get("latest_charge") or error),
    )


def create_intent(
    *, order_id: str, event_id: str, amount_minor: int, currency_code: str, idempotency_key: str
) -> Intent:
    """A PaymentIntent for one order's amount (card only; the order id in its metadata)."""
    client = _client()
    params = {
        "amount": amount_minor,
        "currency": currency_code.lower(),
        "payment_method_types": ["card"],
        "metadata": {"order_id": order_id, "event_id": event_id},
    }
    raw = _call(
        "create intent",
        client.v1.payment_intents.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )
    return _intent(raw)


def get_intent(intent_id: str) -> Intent:
    client = _client()
    return _intent(_call("read intent", client.v1.payment_intents.retrieve, intent_id))


def pay_with_card(intent_id: str, card_token: str) -> Intent:
    """Confirm the intent with the card Stripe.js tokenised in the buyer's browser (we never see
    its number). The card goes to a Customer first: Stripe lets an intent use a Card only
    through one. A decline raises CardDeclined; 3-D Secure leaves the intent `requires_action`
    for Stripe.js to finish."""
    client = _client()
    customer = _call("create customer", client.v1.customers.create, params={"source": card_token})
    card_id = customer.get("default_source")
    if not card_id:
        raise CardDeclined("The card could not be read; enter it again.")
    _call(
        "attach card",
        client.v1.payment_intents.update,
        intent_id,
        params={"customer": customer["id"], "payment_method": card_id},
    )
    return _intent(_call("confirm intent", client.v1.payment_intents.confirm, intent_id))


def cancel_intent(intent_id: str) -> None:
    client = _client()
    _call("cancel intent", client.v1.payment_intents.cancel, intent_id)


def refund(*, intent_id: str, amount_minor: int, refund_id: str) -> ProviderRefund:
    """Refund `amount_minor` of the intent's payment, once per `refund_id`.

    Stripe keeps an idempotency key for 24 hours and the local fake not at all, so a refund
    already made for `refund_id` (found by its metadata) is returned instead of made again."""
    client = _client()
    for existing in refunds_of(intent_id):
        if existing[1] == refund_id:
            return existing[0]
    raw = _call(
        "refund",
        client.v1.refunds.create,
        params={
            "payment_intent": intent_id,
            "amount": amount_minor,
            "metadata": {"refund_id": refund_id},
        },
        options={"idempotency_key": f"refund-{refund_id}"},
    )
    return ProviderRefund(id=raw["id"], amount_minor=int(raw["amount"]), status=raw["status"])


def refunds_of(intent_id: str) -> list[tuple[ProviderRefund, str | None]]:
    """Every refund Stripe holds for the intent, with the refund id we gave it (if ours)."""
    client = _client()
    page = _call(
        "list refunds", client.v1.refunds.list, params={"payment_intent": intent_id, "limit": 100}
    )
    return [
        (
            ProviderRefund(id=r["id"], amount_minor=int(r["amount"]), status=r["status"]),
            (r.get("metadata") or {}).get("refund_id"),
        )
        for r in page["data"]
    ]


def verify_event(payload: bytes, signature: str | None) -> ProviderEvent:
    """The webhook event in `payload` if `signature` is Stripe's for it and at most 300 s old,
    else BadSignature. Needs only the webhook secret."""
    import stripe

    secret = get_settings().stripe_webhook_secret
    if not secret:
        raise PaymentsNotConfigured()
    try:
        event = stripe.Webhook.construct_event(
            payload, signature or "", secret, tolerance=SIGNATURE_TOLERANCE_S
        )
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise BadSignature() from exc
    raw = event.to_dict()
    data = raw.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(raw.get("id"), str) or not isinstance(raw.get("type"), str):
        raise BadSignature("The webhook's body is not a Stripe event.")
    return ProviderEvent(
        id=raw["id"], type=raw["type"], object=obj if isinstance(obj, dict) else {}
    )
