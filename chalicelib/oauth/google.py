"""Google: the OAuth 2.0 device flow, and ID tokens checked against Google's signing keys."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from chalicelib.oauth.base import (
    DeviceFlowProvider,
    Identity,
    InvalidProviderToken,
    call,
    json_of,
)
from chalicelib.settings import Settings

if TYPE_CHECKING:
    import jwt

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
        import jwt  # pyjwt pulls in cryptography's x509 (~60 ms): only sign-in needs it here

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


class Google(DeviceFlowProvider):
    name = "google"
    scope = "openid email profile"
    url_key = "verification_url"
    token_field = "id_token"  # noqa: S105 - a field name, not a secret

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            client_id=settings.google_client_id,
            client_secret=settings.google_client_secret,
            device_code_url=settings.google_device_code_url,
            token_url=settings.google_token_url,
        )
        self.jwks_url = settings.google_jwks_url
        self.issuers = settings.google_issuer

    def identity_from_token(self, token: str) -> Identity:
        """Verify an ID token: Google's signature, issuer, audience (our client id), expiry."""
        import jwt

        client_id = self.client_id
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidProviderToken("The ID token is malformed.") from None
        key = _signing_keys.get(self.jwks_url, str(header.get("kid")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=client_id,
                issuer=self.issuers,
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
