"""Bodies of the Google and GitHub sign-in routes."""

from __future__ import annotations

from chalicelib.api.schemas.common import Body, Token


class DeviceCodeBody(Body):
    device_code: Token


class GoogleTokenBody(Body):
    id_token: Token


class GitHubTokenBody(Body):
    access_token: Token
