"""Bodies of the event, allocation and offer routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from chalicelib.api.schemas.common import Body, CurrencyCode, Id, Price, TicketCount, Time, Title


class CreateEventBody(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"title": "A music concert", "price": "50", "currency_code": "GBP",
                 "time": "2030-09-09T20:00:00Z", "number_of_tickets": 1000}
            ]
        }
    )  # fmt: skip

    title: Title
    time: Time
    price: Price
    currency_code: CurrencyCode
    number_of_tickets: TicketCount
    organizer_id: Id | None = None


class UpdateEventBody(Body):
    title: Title | None = None
    time: Time | None = None
    price: Price | None = None
    currency_code: CurrencyCode | None = None
    number_of_tickets: TicketCount | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateEventBody:
        if all(value is None for value in self.model_dump().values()):
            raise ValueError(
                "Give at least one of title, time, price, currency_code, number_of_tickets."
            )
        return self


class AllocationBody(Body):
    number_of_tickets: Annotated[int, Field(ge=0, le=1_000_000)]


class OnSaleBody(Body):
    on_sale: bool
