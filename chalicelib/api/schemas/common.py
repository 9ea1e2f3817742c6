"""Field types shared by request bodies."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from chalicelib.money import minor_units

MAX_TEXT = 256


def _valid_email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


class Body(BaseModel):
    """Every request body: unknown fields are refused, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", strict=True)


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_TEXT),
    AfterValidator(_valid_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": MAX_TEXT}),
]
# Checked exactly as typed: no trimming, no normalisation.
Password = Annotated[str, StringConstraints(min_length=8, max_length=1024)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
SellerRole = Literal["organizer", "reseller"]


def parse_time(value: str) -> datetime:
    """ISO 8601 date ("2027-09-09", midnight UTC) or datetime; naive times are taken as UTC."""
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("must be an ISO 8601 date or date-time string")
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            "must be an ISO 8601 date or date-time, e.g. 2027-09-09T20:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _valid_phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError("must be a phone number in E.164 form, e.g. +442079460958") from None
    if not value.startswith("+") or not phonenumbers.is_valid_number(number):
        raise ValueError("must be a valid phone number in E.164 form, e.g. +442079460958")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _valid_currency(value: str) -> str:
    minor_units(value)
    return value


Time = Annotated[datetime, BeforeValidator(parse_time)]
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=32),
    AfterValidator(_valid_phone),
    WithJsonSchema(
        {"type": "string", "maxLength": 32, "description": "E.164", "examples": ["+442079460958"]}
    ),
]
CurrencyCode = Annotated[
    str,
    StringConstraints(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$"),
    AfterValidator(_valid_currency),
    Field(description="ISO 4217 code.", examples=["GBP"]),
]
Price = Annotated[
    str,
    StringConstraints(min_length=1, max_length=32, pattern=r"^[0-9]+(\.[0-9]+)?$"),
    Field(description="A decimal string in the currency's units.", examples=["50", "63.72"]),
]
Quantity = Annotated[int, Field(ge=1, le=10)]
TicketCount = Annotated[int, Field(ge=1, le=1_000_000)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Tokens travel in HTTP headers, forms and links: printable ASCII only.
Token = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=r"^[!-~]+$")]
