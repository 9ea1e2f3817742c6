"""Bodies of the door's routes: scanners and check-ins."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from chalicelib.api.schemas.common import Body, DeviceName, Time, Token

# The ticket code's alphabet (no 0/O, 1/I), as chalicelib.services.sales.orders makes codes.
_CODE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _ticket_code(value: str) -> str:
    """Typed at the door: any case, with or without the dashes and spaces."""
    raw = "".join(c for c in value.upper() if c not in "- ")
    if len(raw) != 12 or any(c not in _CODE_CHARS for c in raw):
        raise ValueError("must be a ticket code such as K7QM-3XPA-9HTD")
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


TicketCode = Annotated[
    str,
    StringConstraints(max_length=32),
    AfterValidator(_ticket_code),
    Field(examples=["K7QM-3XPA-9HTD"]),
]
Nonce = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=r"^[!-~]+$"),
    Field(description="The scanner's key for this scan: a retry with it gets the first answer."),
]


class CreateScannerBody(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "North gate 1"}]})

    name: DeviceName


class CheckInBody(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"qr": "eyJhbGciOiJFZERTQSIs...", "nonce": "scan-8f2c"},
                         {"code": "K7QM-3XPA-9HTD"}]
        }
    )  # fmt: skip

    qr: Token | None = Field(default=None, description="The ticket's `qr`, as scanned.")
    code: TicketCode | None = Field(default=None, description="The ticket's code, as typed.")
    nonce: Nonce | None = None
    scanned_at: Time | None = Field(
        default=None, description="When an offline scanner scanned it (ISO 8601 with offset)."
    )

    @model_validator(mode="after")
    def _one_ticket(self) -> CheckInBody:
        if (self.qr is None) == (self.code is None):
            raise ValueError("Give either qr or code.")
        return self
