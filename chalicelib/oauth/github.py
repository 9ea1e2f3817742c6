"""GitHub: the OAuth device flow, and access tokens checked by asking GitHub who they are."""

from __future__ import annotations

from chalicelib.oauth.base import (
    DeviceStart,
    Identity,
    InvalidProviderToken,
    ProviderNotConfigured,
    call,
    device_start_from,
    json_of,
    raise_device_state,
)
from chalicelib.settings import Settings

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ACCEPT_JSON = {"Accept": "application/json"}


class GitHub:
    name = "github"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _client_id(self) -> str:
        if not self.settings.github_client_id:
            raise ProviderNotConfigured()
        return self.settings.github_client_id

    def start_device_flow(self) -> DeviceStart:
        response = call(
            "POST",
            self.settings.github_device_code_url,
            data={"client_id": self._client_id(), "scope": "read:user user:email"},
            headers=ACCEPT_JSON,
        )
        data = json_of(response)
        raise_device_state(data)
        # GitHub says verification_uri; the contract says verification_url.
        return device_start_from(data, url_key="verification_uri")

    def finish_device_flow(self, device_code: str) -> Identity:
        response = call(
            "POST",
            self.settings.github_token_url,
            data={
                "client_id": self._client_id(),
                "device_code": device_code,
                "grant_type": DEVICE_GRANT,
            },
            headers=ACCEPT_JSON,
        )
        data = json_of(response)
        raise_device_state(data)
        if "access_token" not in data:
            raise InvalidProviderToken("GitHub returned no access token.")
        return self.identity_from_token(data["access_token"])

    def identity_from_token(self, token: str) -> Identity:
        """Who the token belongs to, with their primary verified email."""
        self._client_id()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
        user = call("GET", f"{self.settings.github_api_url}/user", headers=headers)
        if user.status_code in (401, 403):
            raise InvalidProviderToken("GitHub did not accept the access token.")
        profile = json_of(user)
        emails = call("GET", f"{self.settings.github_api_url}/user/emails", headers=headers)
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
