"""Bodies of the order routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from chalicelib.api.schemas.bookings import BuyerBody
from chalicelib.api.schemas.common import Body, Id


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
