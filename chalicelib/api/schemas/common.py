"""Field types shared by request bodies."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from chalicelib.api.times import parse_time
from chalicelib.money import minor_units

MAX_TEXT = 256


# email_validator and phonenumbers load on the first body that has an email or a phone:
# together ~50 ms that no other request should pay at a cold start.
#
# SES delivers to ASCII addresses only (no SMTPUTF8): an international domain is kept in its
# punycode form (what mail servers look up), and letters outside ASCII before the @, which no
# mail to SES can carry, are refused here rather than lost in sending.
NON_ASCII_LOCAL_PART = (
    "Letters outside ASCII before the @ cannot be delivered by this service's email; use an "
    "address with an ASCII name (the domain may be international)."
)


def _valid_email(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    local_part = value.rpartition("@")[0]
    if not local_part.isascii():
        raise ValueError(NON_ASCII_LOCAL_PART)
    try:
        checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return checked.ascii_email or checked.normalized


class Body(BaseModel):
    """Every request body: unknown fields are refused, so a typo never passes silently."""

    # defer_build: a model's validator is built on its first use, not at import, so a cold
    # start pays only for the bodies its request needs (all of them cost ~40 ms).
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_TEXT),
    AfterValidator(_valid_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": MAX_TEXT}),
]
# Checked exactly as typed: no trimming, no normalisation.
Password = Annotated[str, StringConstraints(min_length=8, max_length=1024)]
# Line and paragraph separators, and the bidirectional overrides that make "gpj.exe" read
# "exe.jpg": none belongs in a name, and each can rearrange an email that quotes the name.
_NOT_IN_ONE_LINE = {
    "\u2028",
    "\u2029",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
}


def _one_line(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" or c in _NOT_IN_ONE_LINE for c in value):
        raise ValueError("must be one line without control characters")
    return value


def one_line_text(max_length: int) -> Any:
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length),
        AfterValidator(_one_line),
    ]


# Free text that may reach an email or a page: one line, no control characters.
Name = one_line_text(MAX_TEXT)
DeviceName = one_line_text(100)
SellerRole = Literal["organizer", "reseller"]


def _valid_phone(value: str) -> str:
    import phonenumbers

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
# Ids in bodies follow the rule for ids in paths and query strings.
Id = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[!-~]+$")]
Title = one_line_text(200)
# Tokens travel in HTTP headers, forms and links: printable ASCII only.
Token = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=r"^[!-~]+$")]
