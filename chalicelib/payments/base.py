"""What the API needs from a card payment provider, and how provider trouble maps to errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.errors import AppError, InvalidRequest, ServiceUnavailable

# A PaymentIntent's states, as Stripe names them.
REQUIRES_PAYMENT_METHOD = "requires_payment_method"
REQUIRES_CONFIRMATION = "requires_confirmation"
REQUIRES_ACTION = "requires_action"
PROCESSING = "processing"
SUCCEEDED = "succeeded"
CANCELED = "canceled"


@dataclass(frozen=True)
class Intent:
    """One attempt to take an order's money (a Stripe PaymentIntent)."""

    id: str
    status: str
    amount_minor: int
    currency_code: str  # upper case, as the API writes currencies
    client_secret: str
    order_id: str | None  # from the metadata we gave it
    # Why the last attempt failed (a decline, a failed 3-D Secure check), in words for the buyer.
    failure: str | None = None
    # Whether a card was ever tried on it: a tried intent is not reused (services.sales.payments).
    tried: bool = False


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    amount_minor: int
    status: str  # succeeded | pending | failed | canceled


@dataclass(frozen=True)
class ProviderEvent:
    """A webhook event whose signature was verified."""

    id: str
    type: str
    object: dict[str, Any] = field(default_factory=dict)


class PaymentsNotConfigured(ServiceUnavailable):
    code = "payments_not_configured"
    message = "Card payments are not configured on this server."


class PaymentProviderUnavailable(AppError):
    status = 502
    code = "payment_provider_unavailable"
    message = "The payment provider could not be reached; try again."


class CardDeclined(AppError):
    status = 402
    code = "card_declined"
    message = "The card was declined."


class BadSignature(InvalidRequest):
    code = "bad_signature"
    message = "The webhook's signature is missing, wrong or too old."
