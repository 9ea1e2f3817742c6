"""Field types shared by request bodies."""

from __future__ import annotations

from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

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
    str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT), AfterValidator(_valid_email)
]
# Checked exactly as typed: no trimming, no normalisation.
Password = Annotated[str, StringConstraints(min_length=8, max_length=1024)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
SellerRole = Literal["organizer", "reseller"]
