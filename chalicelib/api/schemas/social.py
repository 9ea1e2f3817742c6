"""Bodies of the Google and GitHub sign-in routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from chalicelib.api.schemas.common import Body

# Tokens travel in HTTP headers and forms: printable ASCII only.
Token = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=r"^[!-~]+$")]


class DeviceCodeBody(Body):
    device_code: Token


class GoogleTokenBody(Body):
    id_token: Token


class GitHubTokenBody(Body):
    access_token: Token
