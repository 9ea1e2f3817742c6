"""Google: the OAuth 2.0 device flow, and ID tokens checked against Google's signing keys."""

from __future__ import annotations

import threading
import time
from typing import Any

import jwt

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
KEYS_TTL_S = 3600


class _SigningKeys:
    """Google's published keys, fetched with requests and cached; refetched on an unknown kid
    (Google rotates them) at most once a minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._url: str | None = None
        self._fetched_at = 0.0

    def get(self, url: str, kid: str) -> jwt.PyJWK:
        with self._lock:
            age = time.monotonic() - self._fetched_at
            stale = url != self._url or age > KEYS_TTL_S or (kid not in self._keys and age > 60)
            if stale:
                data = json_of(call("GET", url))
                try:
                    keys = jwt.PyJWKSet.from_dict(data).keys
                except jwt.PyJWTError:
                    raise InvalidProviderToken("Google's signing keys could not be read.") from None
                self._keys = {key.key_id: key for key in keys if key.key_id}
                self._url, self._fetched_at = url, time.monotonic()
            if kid not in self._keys:
                raise InvalidProviderToken("The ID token is not signed by Google.")
            return self._keys[kid]


_signing_keys = _SigningKeys()


class Google:
    name = "google"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _client_id(self) -> str:
        if not self.settings.google_client_id:
            raise ProviderNotConfigured()
        return self.settings.google_client_id

    def start_device_flow(self) -> DeviceStart:
        response = call(
            "POST",
            self.settings.google_device_code_url,
            data={"client_id": self._client_id(), "scope": "openid email profile"},
        )
        data = json_of(response)
        if response.status_code != 200:
            raise_device_state(data)
        return device_start_from(data, url_key="verification_url")

    def finish_device_flow(self, device_code: str) -> Identity:
        response = call(
            "POST",
            self.settings.google_token_url,
            data={
                "client_id": self._client_id(),
                "client_secret": self.settings.google_client_secret or "",
                "device_code": device_code,
                "grant_type": DEVICE_GRANT,
            },
        )
        data = json_of(response)
        raise_device_state(data)
        if "id_token" not in data:
            raise InvalidProviderToken("Google returned no ID token.")
        return self.identity_from_token(data["id_token"])

    def identity_from_token(self, token: str) -> Identity:
        """Verify an ID token: Google's signature, issuer, audience (our client id), expiry."""
        client_id = self._client_id()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidProviderToken("The ID token is malformed.") from None
        key = _signing_keys.get(self.settings.google_jwks_url, str(header.get("kid")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=client_id,
                issuer=self.settings.google_issuer,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidProviderToken(f"The ID token was refused: {exc}.") from None
        return Identity(
            provider=self.name,
            subject=str(claims["sub"]),
            email=claims.get("email"),
            email_verified=claims.get("email_verified") is True,
            name=claims.get("name"),
        )
