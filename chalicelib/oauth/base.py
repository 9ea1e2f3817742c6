"""What a sign-in provider offers the API (the device flow both share), and how provider trouble
maps to errors."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

from chalicelib.errors import AppError, InvalidRequest, ServiceUnavailable, Unauthorized

log = logging.getLogger(__name__)

TIMEOUT_S = 5
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

# The device-flow answers the contract passes through as 400s with the provider's own code.
DEVICE_FLOW_STATES = {
    "authorization_pending": "The person has not approved the sign-in yet; poll again.",
    "slow_down": "Polling too fast; wait longer between attempts.",
    "expired_token": "The device code expired; start again.",
    "access_denied": "The person declined the sign-in.",
}


@dataclass(frozen=True)
class DeviceStart:
    device_code: str
    user_code: str
    verification_url: str
    expires_in: int
    interval: int


@dataclass(frozen=True)
class Identity:
    """A person as a provider vouches for them."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


class ProviderNotConfigured(ServiceUnavailable):
    code = "provider_not_configured"
    message = "Sign-in with this provider is not configured on this server."


class ProviderUnavailable(AppError):
    status = 502
    code = "provider_unavailable"
    message = "The sign-in provider could not be reached; try again later."


class InvalidProviderToken(Unauthorized):
    code = "invalid_provider_token"
    message = "The provider's token was not accepted."


class DeviceFlowState(InvalidRequest):
    """Pending, slow_down, expired or denied: the client polls or starts again."""

    def __init__(self, state: str) -> None:
        super().__init__(DEVICE_FLOW_STATES[state], code=state)


def call(method: str, url: str, **kwargs: Any) -> requests.Response:
    """One bounded HTTP call to a provider; network trouble and 5xx become a 502."""
    import requests  # only sign-in needs it: kept out of every other request's cold start

    try:
        response = requests.request(method, url, timeout=TIMEOUT_S, **kwargs)
    except requests.RequestException as exc:
        log.warning("provider call %s %s failed: %s", method, url, exc)
        raise ProviderUnavailable() from None
    if response.status_code >= 500:
        log.warning("provider call %s %s answered %s", method, url, response.status_code)
        raise ProviderUnavailable()
    return response


def json_of(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise ProviderUnavailable("The sign-in provider sent an unreadable answer.") from None
    if not isinstance(data, dict):
        raise ProviderUnavailable("The sign-in provider sent an unreadable answer.")
    return data


def device_start_from(data: dict[str, Any], *, url_key: str) -> DeviceStart:
    try:
        return DeviceStart(
            device_code=str(data["device_code"]),
            user_code=str(data["user_code"]),
            verification_url=str(data[url_key]),
            expires_in=int(data["expires_in"]),
            interval=int(data.get("interval", 5)),
        )
    except (KeyError, TypeError, ValueError):
        raise ProviderUnavailable("The sign-in provider sent an unexpected answer.") from None


def raise_device_state(data: dict[str, Any]) -> None:
    error = data.get("error")
    if error in DEVICE_FLOW_STATES:
        raise DeviceFlowState(error)
    if error:
        log.warning("device flow refused by provider: %s", error)
        raise InvalidProviderToken(f"The provider refused the sign-in ({error}).")


class DeviceFlowProvider:
    """The OAuth 2.0 device flow (RFC 8628) as both providers run it; subclasses say what they
    call things and how a token turns into an Identity."""

    name: str
    scope: str
    url_key: str  # the provider's name for the page where the person enters the code
    token_field: str  # what the token endpoint returns that identifies the person
    headers: dict[str, str] = {}  # noqa: RUF012 - read-only per class

    def __init__(
        self,
        *,
        client_id: str | None,
        client_secret: str | None,
        device_code_url: str,
        token_url: str,
    ) -> None:
        self._id = client_id
        self._secret = client_secret
        self.device_code_url = device_code_url
        self.token_url = token_url

    @property
    def client_id(self) -> str:
        if not self._id:
            raise ProviderNotConfigured()
        return self._id

    def start_device_flow(self) -> DeviceStart:
        form = {"client_id": self.client_id, "scope": self.scope}
        data = json_of(call("POST", self.device_code_url, data=form, headers=self.headers))
        raise_device_state(data)
        return device_start_from(data, url_key=self.url_key)

    def finish_device_flow(self, device_code: str) -> Identity:
        form = {"client_id": self.client_id, "device_code": device_code, "grant_type": DEVICE_GRANT}
        if self._secret:
            form["client_secret"] = self._secret
        data = json_of(call("POST", self.token_url, data=form, headers=self.headers))
        raise_device_state(data)
        if self.token_field not in data:
            raise InvalidProviderToken(f"The provider returned no {self.token_field}.")
        return self.identity_from_token(str(data[self.token_field]))

    def identity_from_token(self, token: str) -> Identity:
        raise NotImplementedError
