"""Bodies of the waiting-list routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from chalicelib.api.schemas.bookings import BuyerBody
from chalicelib.api.schemas.common import Body, Id, Token
from chalicelib.db.waiting_list import PRIORITY_MAX


class JoinWaitingListBody(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"ticket_type_id": "9a1e...", "quantity": 2,
                          "buyer": {"name": "Bea Buyer", "email": "bea@example.com",
                                    "phone": "+442079460958"}}]
        }
    )  # fmt: skip

    ticket_type_id: Id
    quantity: Annotated[int, Field(ge=1, le=50, description="At most the type's max_per_order.")]
    buyer: BuyerBody


class LeaveWaitingListBody(Body):
    token: Token = Field(description="The token of the emailed link.")


class PrioritiseBody(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"priority": 10}]})

    priority: Annotated[
        int, Field(ge=0, le=PRIORITY_MAX, description="Higher goes first (0, the default, last).")
    ]
