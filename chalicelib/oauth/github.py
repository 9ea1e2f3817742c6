"""GitHub: the OAuth device flow, and access tokens checked by asking GitHub who they are."""

from __future__ import annotations

import logging

from chalicelib.oauth.base import (
    DeviceFlowProvider,
    Identity,
    InvalidProviderToken,
    ProviderNotConfigured,
    ProviderUnavailable,
    call,
    json_of,
)
from chalicelib.settings import Settings

log = logging.getLogger(__name__)


class GitHub(DeviceFlowProvider):
    name = "github"
    scope = "read:user user:email"
    # GitHub says verification_uri; the contract says verification_url.
    url_key = "verification_uri"
    token_field = "access_token"  # noqa: S105 - a field name, not a secret
    headers = {"Accept": "application/json"}  # noqa: RUF012 - read-only per class

    def __init__(self, settings: Settings) -> None:
        # The device flow needs no client secret (GITHUB_CLIENT_SECRET is for web flows).
        super().__init__(
            client_id=settings.github_client_id,
            client_secret=None,
            device_code_url=settings.github_device_code_url,
            token_url=settings.github_token_url,
        )
        self.api_url = settings.github_api_url
        self.app_secret = settings.github_client_secret

    def check_issued_to_us(self, token: str) -> None:
        """Refuse a token GitHub did not issue to our OAuth app (another app's token, a personal
        access token): GitHub's "check a token" API, with our client credentials."""
        client_id = self.client_id
        if not self.app_secret:
            raise ProviderNotConfigured(
                "GitHub token exchange needs GITHUB_CLIENT_SECRET on this server."
            )
        answer = call(
            "POST",
            f"{self.api_url}/applications/{client_id}/token",
            auth=(client_id, self.app_secret),
            json={"access_token": token},
            headers={"Accept": "application/vnd.github+json"},
        )
        if answer.status_code in (404, 422):
            raise InvalidProviderToken("GitHub did not issue this token to this application.")
        if answer.status_code != 200:
            # 401/403: GitHub refused our own client credentials; the operator must fix them.
            log.error("GitHub token check answered %s", answer.status_code)
            raise ProviderUnavailable("GitHub could not check the token; try again later.")

    def identity_from_token(self, token: str) -> Identity:
        """Who the token belongs to, with their primary verified email."""
        self.client_id  # noqa: B018 - refuse early when GitHub sign-in is not configured
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
        user = call("GET", f"{self.api_url}/user", headers=headers)
        if user.status_code in (401, 403):
            raise InvalidProviderToken("GitHub did not accept the access token.")
        profile = json_of(user)
        emails = call("GET", f"{self.api_url}/user/emails", headers=headers)
        if emails.status_code in (401, 403):
            raise InvalidProviderToken("The GitHub token may not read the account's emails.")
        try:
            listed = emails.json()
        except ValueError:
            listed = None
        if not isinstance(listed, list):
            listed = []
        primary = next(
            (e for e in listed if isinstance(e, dict) and e.get("primary") and e.get("verified")),
            None,
        )
        if "id" not in profile:
            raise InvalidProviderToken("GitHub did not say whose token this is.")
        return Identity(
            provider=self.name,
            subject=str(profile["id"]),
            email=primary["email"] if primary else None,
            email_verified=primary is not None,
            name=profile.get("name") or profile.get("login"),
        )
