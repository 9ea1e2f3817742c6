"""Who is calling: a bearer token -> a live, unblocked user with a current token version, a
door device (scanner) that has not been revoked, or a buyer who opened an access link."""

from __future__ import annotations

from dataclasses import dataclass

from chalice.app import Request

from chalicelib.auth import scanner_tokens
from chalicelib.auth.tokens import InvalidToken, decode_token
from chalicelib.db.base import get_or_none
from chalicelib.db.buyers import Buyer
from chalicelib.db.scanners import Scanner
from chalicelib.db.users import User
from chalicelib.errors import Forbidden, Unauthorized

ADMIN = "admin"
ORGANIZER = "organizer"
RESELLER = "reseller"
SELLER_ROLES = (ORGANIZER, RESELLER)
# A door device: checks in one event's tickets and reads that event's check-ins, nothing else.
SCANNER = "scanner"
# A buyer through an emailed access link: reaches only the /my-* routes.
BUYER = "buyer"
# The holder of one order's `order_token`: reads and cancels that order, nothing else.
ORDER = "order"
# The holder of an order's checkout link: reads and pays that order, nothing else.
CHECKOUT = "checkout"
# Tokens for one order, not for a person: they reach that order's routes only.
ORDER_ROLES = (ORDER, CHECKOUT)
# The holder of a waiting-list entry's emailed link: leaves that entry, nothing else.
WAITING = "waiting"


@dataclass(frozen=True)
class Principal:
    user_id: str  # a scanner's id for a scanner
    role: str | None
    event_id: str | None = None  # a scanner's event

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
    if scanner_tokens.is_scanner_token(token):
        return _scanner(token)
    try:
        claims = decode_token(token)
    except InvalidToken:
        raise Unauthorized() from None
    if claims.is_waiting:
        return Principal(user_id=claims.user_id, role=WAITING)
    if claims.is_order or claims.is_checkout:
        # Signed for one order, which the route reads anyway: no lookup here.
        return Principal(user_id=claims.user_id, role=ORDER if claims.is_order else CHECKOUT)
    if claims.is_buyer:
        # Erasing their data deletes the buyer, and with it every session they opened.
        buyer = get_or_none(Buyer, claims.user_id, consistent_read=True)
        if buyer is None or buyer.token_version != claims.token_version:
            raise Unauthorized()
        return Principal(user_id=buyer.id, role=BUYER)
    user = get_or_none(User, claims.user_id, consistent_read=True)
    if user is None or user.blocked or user.token_version != claims.token_version:
        raise Unauthorized()
    return Principal(user_id=user.id, role=user.role)


def _scanner(token: str) -> Principal:
    """One consistent GetItem too: a revoked scanner's record is gone."""
    parsed = scanner_tokens.parse(token)
    if parsed is None:
        raise Unauthorized()
    scanner = get_or_none(Scanner, parsed.scanner_id, consistent_read=True)
    if scanner is None or not scanner_tokens.matches(parsed.secret, scanner.secret_hash):
        raise Unauthorized()
    return Principal(user_id=scanner.id, role=SCANNER, event_id=scanner.event_id)


def principal_of(request: Request) -> Principal:
    """The caller the authorizer let through (its context values are strings)."""
    context = (request.context or {}).get("authorizer") or {}
    user_id = context.get("user_id")
    if not user_id:
        raise Unauthorized()
    return Principal(
        user_id=user_id, role=context.get("role") or None, event_id=context.get("event_id") or None
    )


def optional_principal(request: Request) -> Principal | None:
    """For routes open to anonymous callers: the caller's account if a bearer token came, else
    None. Door devices' and buyers' tokens reach only their own routes, here as everywhere."""
    header = request.headers.get("authorization")
    if not header:
        return None
    if scanner_tokens.is_scanner_token(bearer_token(header) or ""):
        raise Forbidden()
    principal = authenticate(header)
    if principal.role in (BUYER, WAITING, *ORDER_ROLES):
        raise Forbidden()
    return principal


def require_role(actor: Principal, *roles: str) -> None:
    if actor.role not in roles:
        raise Forbidden()
