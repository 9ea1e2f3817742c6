"""Bodies of the order routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from chalicelib.api.schemas.bookings import BuyerBody
from chalicelib.api.schemas.common import Body, Id, Price, Token, one_line_text
from chalicelib.api.schemas.vouchers import Code

Reason = one_line_text(500)


class OrderItemBody(Body):
    ticket_type_id: Id | None = Field(
        default=None, description="Required when the event sells more than one ticket type."
    )
    quantity: Annotated[int, Field(ge=1, le=50)]


class OrderBody(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"event_id": "3f6c...",
                 "items": [{"ticket_type_id": "9a1e...", "quantity": 2}],
                 "buyer": {"name": "Bea Buyer", "email": "bea@example.com",
                           "phone": "+442079460958"}}
            ]
        }
    )  # fmt: skip

    event_id: Id
    seller_id: Id | None = None
    items: Annotated[list[OrderItemBody], Field(min_length=1, max_length=10)]
    buyer: BuyerBody
    voucher: Code | None = Field(
        default=None,
        description="A voucher code of the event; unknown, expired, used up or for none of "
        "these types: 409 `voucher_not_valid`, nothing held.",
    )


class RefundBody(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"ticket_ids": ["9a1e..."], "reason": "Cannot attend"}, {"amount": "5.00"}]
        }
    )

    amount: Price | None = Field(
        default=None,
        description="In the order's currency. Default: what the named tickets were paid, or "
        "everything not yet refunded.",
    )
    ticket_ids: Annotated[list[Id], Field(min_length=1, max_length=50)] | None = Field(
        default=None,
        description="Tickets of this order to cancel with the refund (they stop passing "
        "check-in, their seats go back on sale). Without them, an amount cancels nothing, and "
        "no amount refunds the whole order and cancels every ticket not yet used.",
    )
    reason: Reason | None = None


class PayBody(Body):
    card_token: Token = Field(
        description="The token Stripe.js made of the card in the buyer's browser (`tok_...`)."
    )
