"""Bodies of the user administration routes."""

from __future__ import annotations

from pydantic import model_validator

from chalicelib.api.schemas.common import Body, Email, Name, Password, SellerRole


class CreateUserBody(Body):
    email: Email
    password: Password
    name: Name
    role: SellerRole


class UpdateUserBody(Body):
    name: Name | None = None
    email: Email | None = None
    password: Password | None = None
    current_password: str | None = None
    role: SellerRole | None = None
    blocked: bool | None = None
    verified: bool | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateUserBody:
        fields = ("name", "email", "password", "role", "blocked", "verified")
        if all(getattr(self, field) is None for field in fields):
            raise ValueError(f"Give at least one of {', '.join(fields)}.")
        return self
