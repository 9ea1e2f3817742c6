"""Who is calling: bearer token -> a live, unblocked user with a current token version."""

from __future__ import annotations

from dataclasses import dataclass

from chalice.app import Request

from chalicelib.auth.tokens import InvalidToken, decode_token
from chalicelib.db.base import get_or_none
from chalicelib.db.users import User
from chalicelib.errors import Forbidden, Unauthorized

ADMIN = "admin"
ORGANIZER = "organizer"
RESELLER = "reseller"
SELLER_ROLES = (ORGANIZER, RESELLER)


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(authorization: str | None) -> Principal:
    """Check an `Authorization` header value; used by the authorizer and optional-auth routes.

    One consistent GetItem per call: blocking, deleting, or changing a user's role or password
    bumps their token version, and the next request with an older token fails here.
    """
    token = bearer_token(authorization)
    if token is None:
        raise Unauthorized()
    try:
        claims = decode_token(token)
    except InvalidToken:
        raise Unauthorized() from None
    user = get_or_none(User, claims.user_id, consistent_read=True)
    if user is None or user.blocked or user.token_version != claims.token_version:
        raise Unauthorized()
    return Principal(user_id=user.id, role=user.role)


def principal_of(request: Request) -> Principal:
    """The caller the authorizer let through (its context values are strings)."""
    context = (request.context or {}).get("authorizer") or {}
    user_id = context.get("user_id")
    if not user_id:
        raise Unauthorized()
    return Principal(user_id=user_id, role=context.get("role") or None)


def optional_principal(request: Request) -> Principal | None:
    """For routes open to anonymous callers: the caller if a bearer token came, else None."""
    header = request.headers.get("authorization")
    return authenticate(header) if header else None


def require_role(actor: Principal, *roles: str) -> None:
    if actor.role not in roles:
        raise Forbidden()
