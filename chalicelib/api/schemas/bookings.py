"""Bodies of the booking (sold tickets) and buyer routes."""

from __future__ import annotations

from pydantic import ConfigDict, Field, model_validator

from chalicelib.api.schemas.common import Body, Email, Id, Name, Phone, Quantity


class BuyerBody(Body):
    name: Name
    email: Email
    phone: Phone


class BookingBody(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"event_id": "3f6c...", "quantity": 2,
                 "buyer": {"name": "Bea Buyer", "email": "bea@example.com",
                           "phone": "+442079460958"}}
            ]
        }
    )  # fmt: skip

    event_id: Id
    seller_id: Id | None = None
    ticket_type_id: Id | None = Field(
        default=None, description="Required when the event sells more than one ticket type."
    )
    quantity: Quantity = 1
    buyer: BuyerBody


class ChangeBuyerBody(Body):
    buyer: BuyerBody


class UpdateBuyerBody(Body):
    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateBuyerBody:
        if self.name is None and self.email is None and self.phone is None:
            raise ValueError("Give at least one of name, email or phone.")
        return self
