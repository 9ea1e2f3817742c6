"""Bodies of the ticket type routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from chalicelib.api.schemas.common import Body, Price, Time, Title, one_line_text

# Shown to buyers (and in emails to come): one line, no control characters.
Description = one_line_text(1000)
TypeQuantity = Annotated[
    int, Field(ge=0, le=1_000_000, description="Its own limit within the event's capacity.")
]
MaxPerOrder = Annotated[int, Field(ge=1, le=50)]


class CreateTicketTypeBody(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "VIP", "price": "120", "quantity": 50}]}
    )

    name: Title
    price: Price
    description: Description | None = None
    quantity: TypeQuantity | None = None
    available_from: Time | None = None
    available_until: Time | None = None
    max_per_order: MaxPerOrder = 10
    on_sale: bool = True


class UpdateTicketTypeBody(Body):
    name: Title | None = None
    price: Price | None = None
    description: Description | None = None
    quantity: TypeQuantity | None = Field(default=None, description="Null: no own limit.")
    available_from: Time | None = None
    available_until: Time | None = None
    max_per_order: MaxPerOrder | None = None
    on_sale: bool | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateTicketTypeBody:
        if not self.model_fields_set:
            raise ValueError("Give at least one field to change.")
        return self

    def changes(self) -> dict:
        """The fields given; a null clears description, quantity and the window's edges."""
        clearable = {"description", "quantity", "available_from", "available_until"}
        return {
            name: getattr(self, name)
            for name in self.model_fields_set
            if getattr(self, name) is not None or name in clearable
        }
