"""Bodies of the account routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, StringConstraints, model_validator

from chalicelib.api.schemas.common import Body, Email, Name, Password, SellerRole, Token


class RegisterBody(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"email": "me@example.com", "password": "password1", "name": "ME",
                 "role": "organizer"}
            ]
        }
    )  # fmt: skip

    email: Email
    password: Password
    name: Name | None = None
    role: SellerRole


class LoginBody(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "me@example.com", "password": "password1"}]}
    )

    # Not validated as an email: anything unknown is simply "Wrong username or password."
    email: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class EmailBody(Body):
    """Routes that email a link to an address: resend verification, forgot password."""

    email: Email


class ResetPasswordBody(Body):
    token: Token
    password: Password


class UpdateMyselfBody(Body):
    name: Name | None = None
    password: Password | None = None
    current_password: Annotated[str, StringConstraints(max_length=1024)] | None = None
    role: SellerRole | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateMyselfBody:
        if self.name is None and self.password is None and self.role is None:
            raise ValueError("Give at least one of name, password or role.")
        if self.password is not None and self.current_password is None:
            raise ValueError("current_password is required to change the password.")
        return self
