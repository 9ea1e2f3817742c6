"""Bodies of the voucher routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from chalicelib.api.schemas.common import Body, Id, Time

# Typed in by buyers and read out over the phone: letters, digits, dashes, underscores.
Code = Annotated[
    str,
    StringConstraints(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"),
    Field(description="Case-insensitive, unique within the event.", examples=["EARLYBIRD"]),
]
MaxUses = Annotated[int, Field(ge=1, le=1_000_000)]
TypeIds = Annotated[list[Id], Field(min_length=1, max_length=20)]


class DiscountBody(Body):
    type: Literal["percent", "amount", "price"] = Field(
        description="`percent` off each matching ticket (rounded half-up to the currency's "
        "minor unit), an `amount` off each, or a fixed `price` for each."
    )
    value: Annotated[str, StringConstraints(min_length=1, max_length=20)] = Field(
        description="A decimal string: the percentage (above 0, at most 100, 2 decimals), or "
        "money in the event's currency.",
        examples=["15", "5.00"],
    )


class CreateVoucherBody(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"code": "EARLYBIRD", "discount": {"type": "percent", "value": "15"},
                          "max_uses": 100}]
        }
    )  # fmt: skip

    code: Code
    discount: DiscountBody
    max_uses: MaxUses | None = Field(default=None, description="Null: no limit.")
    valid_until: Time | None = None
    ticket_type_ids: TypeIds | None = Field(default=None, description="Null: every type.")


class UpdateVoucherBody(Body):
    discount: DiscountBody | None = None
    max_uses: MaxUses | None = Field(default=None, description="Null: no limit.")
    valid_until: Time | None = Field(default=None, description="Null: no end.")
    ticket_type_ids: TypeIds | None = Field(default=None, description="Null: every type.")

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateVoucherBody:
        if not self.model_fields_set:
            raise ValueError("Give at least one field to change (the code cannot change).")
        if "discount" in self.model_fields_set and self.discount is None:
            raise ValueError("discount cannot be null.")
        return self

    def changes(self) -> dict:
        out: dict = {}
        for name in self.model_fields_set:
            if name == "discount" and self.discount is not None:  # null refused above
                out["discount"] = (self.discount.type, self.discount.value)
            else:
                out[name] = getattr(self, name)
        return out
