"""The API's own bearer tokens (JWT, HS256).

pyjwt is imported where it is used: it loads cryptography's x509 and RSA code (~60 ms) at
import, which the API function needs only to log someone in or to read an optional token
(the authorizer, a separate function, checks the tokens of every other route and pays that
import on its first call instead of at start)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.db.base import utcnow
from chalicelib.settings import get_settings

ALGORITHM = "HS256"
AUDIENCE = "events-api"
# Buyers' tokens (from an emailed access link) have an audience of their own: no code path
# that expects an account's token can take one for an account.
BUYER_AUDIENCE = "events-api:buyer"
# An order's token (given to whoever placed it): that order only, until a day after the event.
ORDER_AUDIENCE = "events-api:order"
ORDER_TOKEN_AFTER_EVENT = timedelta(hours=24)
# The checkout link's token: reads and pays one order (never cancels it), and lasts a day past
# the hold, long enough to come back to the page for the tickets.
CHECKOUT_AUDIENCE = "events-api:checkout"
CHECKOUT_TOKEN_AFTER_HOLD = timedelta(hours=24)
# A waiting-list entry's token (emailed when joining): leaves that entry, nothing else.
WAITING_AUDIENCE = "events-api:waiting"
TOKEN_LIFETIME = timedelta(minutes=30)
BUYER_TOKEN_LIFETIME = timedelta(hours=1)
REQUIRED_CLAIMS = ["sub", "iat", "exp", "iss", "aud", "ver"]
MAX_SUBJECT = 200


@dataclass(frozen=True)
class IssuedToken:
    auth_token: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret


@dataclass(frozen=True)
class TokenClaims:
    user_id: str  # a buyer's id in a buyer's token, an order's in an order's
    token_version: int
    is_buyer: bool = False
    is_order: bool = False
    is_checkout: bool = False
    is_waiting: bool = False


class InvalidToken(Exception):
    """Signature, algorithm, expiry, issuer, audience or shape is wrong."""


def issue_token(*, user_id: str, role: str | None, token_version: int) -> IssuedToken:
    return _issue(user_id, role, token_version, AUDIENCE, TOKEN_LIFETIME)


def issue_buyer_token(*, buyer_id: str, token_version: int) -> IssuedToken:
    return _issue(buyer_id, "buyer", token_version, BUYER_AUDIENCE, BUYER_TOKEN_LIFETIME)


def issue_order_token(*, order_id: str, event_time: datetime) -> IssuedToken:
    lifetime = max(event_time + ORDER_TOKEN_AFTER_EVENT - utcnow(), timedelta(minutes=1))
    return _issue(order_id, "order", 0, ORDER_AUDIENCE, lifetime)


def issue_checkout_token(*, order_id: str, expires_at: datetime) -> IssuedToken:
    lifetime = max(expires_at + CHECKOUT_TOKEN_AFTER_HOLD - utcnow(), timedelta(minutes=1))
    return _issue(order_id, "checkout", 0, CHECKOUT_AUDIENCE, lifetime)


def issue_waiting_token(*, entry_id: str, event_time: datetime) -> IssuedToken:
    lifetime = max(event_time + ORDER_TOKEN_AFTER_EVENT - utcnow(), timedelta(minutes=1))
    return _issue(entry_id, "waiting", 0, WAITING_AUDIENCE, lifetime)


def _issue(
    subject: str, role: str | None, version: int, audience: str, lifetime: timedelta
) -> IssuedToken:
    import jwt  # imported on use: see the module docstring

    settings = get_settings()
    now = utcnow()
    claims = {
        "sub": subject,
        "role": role,
        "ver": version,
        "iat": now,
        "exp": now + lifetime,
        "iss": settings.app_url,
        "aud": audience,
    }
    token = jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)
    return IssuedToken(auth_token=token, expires_in=int(lifetime.total_seconds()))


def decode_token(token: str) -> TokenClaims:
    """Verify a token's signature and standard claims; the caller still checks the user."""
    import jwt

    settings = get_settings()
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            # An explicit list: never "none", never an algorithm the header picks.
            algorithms=[ALGORITHM],
            audience=[
                AUDIENCE,
                BUYER_AUDIENCE,
                ORDER_AUDIENCE,
                CHECKOUT_AUDIENCE,
                WAITING_AUDIENCE,
            ],
            issuer=settings.app_url,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    _check_claim_types(claims)
    return TokenClaims(
        user_id=claims["sub"],
        token_version=claims["ver"],
        is_buyer=claims["aud"] == BUYER_AUDIENCE,
        is_order=claims["aud"] == ORDER_AUDIENCE,
        is_checkout=claims["aud"] == CHECKOUT_AUDIENCE,
        is_waiting=claims["aud"] == WAITING_AUDIENCE,
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_claim_types(claims: dict) -> None:
    """pyjwt checks values, not types: "exp": "1900000000" or "ver": false would pass it.
    A token we signed never looks like that, but a leaked or mis-issued secret must not turn
    into a crash (an empty `sub` is no valid DynamoDB key)."""
    sub = claims["sub"]
    if not (isinstance(sub, str) and 0 < len(sub) <= MAX_SUBJECT and sub.isprintable()):
        raise InvalidToken("malformed subject")
    if not all(_is_int(claims[name]) for name in ("exp", "iat", "ver")):
        raise InvalidToken("exp, iat and ver must be integers")
    if not isinstance(claims.get("role"), str | None):
        raise InvalidToken("malformed role")
    if not isinstance(claims["aud"], str):  # one audience: an account's, a buyer's, an order's
        raise InvalidToken("malformed audience")
