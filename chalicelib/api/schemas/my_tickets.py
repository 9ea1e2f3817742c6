"""Bodies of the buyers' own routes (no account: an emailed link opens a session)."""

from __future__ import annotations

from pydantic import ConfigDict

from chalicelib.api.schemas.common import Body, Email, Token


class BuyerAccessBody(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "bea@example.com"}]})

    email: Email


class BuyerSessionBody(Body):
    token: Token
