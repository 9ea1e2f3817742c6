"""Domain errors, each declared once with its HTTP status and code, and their JSON shape.

Services raise these; nothing below the API layer knows about HTTP beyond the status
number carried here. `error_body` is the only place the error JSON is built.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar


class AppError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    message: ClassVar[str] = "An internal error occurred."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: dict[str, str] | None = None,
    ) -> None:
        self.message = message or type(self).message
        if code:
            self.code = code
        self.details = details
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.code, self.details)

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the JSON body."""
        return {}


class InvalidRequest(AppError):
    status = 400
    code = "invalid_request"
    message = "Invalid request."


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    message = "Not authorized."

    def headers(self) -> dict[str, str]:
        # RFC 6750: tells a client sending the original's access-token headers what is wanted.
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    message = "Not authorized."


class NotFound(AppError):
    status = 404
    code = "not_found"
    message = "Not found."


class MethodNotAllowed(AppError):
    status = 405
    code = "method_not_allowed"
    message = "Method not allowed on this resource."


class Conflict(AppError):
    status = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class Unprocessable(AppError):
    status = 422
    code = "unprocessable"
    message = "The request cannot be processed as sent."


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    message = "Request body too large."


class HeadersTooLarge(AppError):
    status = 431
    code = "headers_too_large"
    message = "Request headers too large."


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"
    message = "Content-Type must be application/json."


class Throttled(AppError):
    status = 429
    code = "throttled"
    message = "Too many requests; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RateLimited(Throttled):
    code = "rate_limited"
    message = "Too many requests; try again later."


class TooManyAttempts(Throttled):
    code = "too_many_attempts"
    message = "Too many sign-in attempts for this account are running; try again in a moment."


class ServiceUnavailable(AppError):
    status = 503
    code = "service_unavailable"
    message = "The service is temporarily unavailable; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


# The errors the contract names, declared once with the original's words.


class WrongCredentials(Unauthorized):
    code = "wrong_credentials"
    message = "Wrong username or password."


class AccountBlocked(Forbidden):
    code = "account_blocked"
    message = "Account blocked."


class AccountNotVerified(Forbidden):
    code = "account_not_verified"
    message = "Account not verified."


class UserExists(Conflict):
    code = "user_exists"
    message = "User already exists."


class SoldOut(Conflict):
    code = "sold_out"
    message = "Event sold out."


class NotEnoughToResell(Conflict):
    code = "not_enough_tickets"
    message = "You cannot resell that many tickets."


class AdminRequiresPassword(Forbidden):
    code = "admin_requires_password"
    message = "Administrators sign in with their password only."


class BuyerHasTickets(Conflict):
    code = "buyer_has_tickets"
    message = "Cannot delete buyer when associated with ticket."


class TicketCancelled(Conflict):
    code = "ticket_cancelled"
    message = "This ticket was cancelled."


class TicketNotFound(NotFound):
    code = "ticket_not_found"
    message = "No such ticket: the code is unknown or the signature does not verify."


class TicketTypeNotFound(NotFound):
    code = "ticket_type_not_found"
    message = "No such ticket type for this event."


class WrongEvent(Conflict):
    code = "wrong_event"
    message = "This ticket is for another event."


class AlreadyCheckedIn(Conflict):
    code = "already_checked_in"
    message = "This ticket was already checked in."

    def __init__(self, checked_in_at: datetime) -> None:
        # Written as the response bodies write times (pydantic): UTC with a "Z".
        at = checked_in_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        super().__init__(details={"checked_in_at": at})


class NotCheckedIn(Conflict):
    code = "not_checked_in"
    message = "This ticket is not checked in."


def error_body(message: str, code: str, details: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": message, "code": code}
    if details:
        body["details"] = details
    return body


# The error classes a bare status maps to, for errors produced by Chalice or the gateway
# rather than raised by our code (405, 415, an unhandled exception's 500, ...).
BY_STATUS: dict[int, type[AppError]] = {
    cls.status: cls
    for cls in (
        InvalidRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        Unprocessable,
        PayloadTooLarge,
        HeadersTooLarge,
        UnsupportedMediaType,
        Throttled,
        AppError,
        ServiceUnavailable,
    )
}
