"""What a sign-in provider offers the API, and how provider trouble maps to errors."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from chalicelib.errors import AppError, InvalidRequest, ServiceUnavailable, Unauthorized

log = logging.getLogger(__name__)

TIMEOUT_S = 5

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


class Provider(Protocol):
    name: str

    def start_device_flow(self) -> DeviceStart: ...

    def finish_device_flow(self, device_code: str) -> Identity: ...

    def identity_from_token(self, token: str) -> Identity: ...


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
