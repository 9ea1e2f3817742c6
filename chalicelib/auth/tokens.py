"""The API's own bearer tokens (JWT, HS256).

pyjwt is imported where it is used: it loads cryptography's x509 and RSA code (~60 ms) at
import, which the API function needs only to log someone in or to read an optional token
(the authorizer, a separate function, checks the tokens of every other route and pays that
import on its first call instead of at start)."""

from __future__ import annotations

import base64
import hashlib
import hmac
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
# An on-sale queue's admission (its places are HMAC-signed strings, not JWTs): not a bearer
# token, the authorizer never accepts its audience.
ADMISSION_AUDIENCE = "events-api:admission"
ADMISSION_LIFETIME = timedelta(minutes=10)
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
    token = _sign(subject, audience, lifetime, {"role": role, "ver": version})
    return IssuedToken(auth_token=token, expires_in=int(lifetime.total_seconds()))


def decode_token(token: str) -> TokenClaims:
    """Verify a token's signature and standard claims; the caller still checks the user."""
    audiences = [AUDIENCE, BUYER_AUDIENCE, ORDER_AUDIENCE, CHECKOUT_AUDIENCE, WAITING_AUDIENCE]
    claims = _decoded(token, audiences, REQUIRED_CLAIMS)
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


@dataclass(frozen=True)
class QueuePlace:
    """A place in an event's on-sale queue: which counter of which band gave it."""

    event_id: str
    band: str  # "early" (joined before opens_at) or "late"
    counter: int
    number: int  # the counter's value this place took (1, 2, ...)


def issue_queue_token(place: QueuePlace) -> str:
    """A place as a short signed string (it goes in a URL path): q1.<event>.<band>.<k>.<n>.<mac>.
    Valid while its event is: the queue reads the event anyway."""
    body = f"q1.{place.event_id}.{place.band}.{place.counter}.{place.number}"
    return f"{body}.{_queue_mac(body)}"


def decode_queue_token(token: str) -> QueuePlace:
    if not isinstance(token, str) or len(token) > 200:
        raise InvalidToken("not a queue token")
    body, _, mac = token.rpartition(".")
    if not hmac.compare_digest(mac.encode(), _queue_mac(body).encode()):
        raise InvalidToken("bad signature")
    version, event_id, band, counter, number = (body.split(".") + [""] * 5)[:5]
    if version != "q1" or band not in ("early", "late") or not event_id:
        raise InvalidToken("not a queue token")
    if not (counter.isdigit() and number.isdigit() and len(counter) < 4 and len(number) < 10):
        raise InvalidToken("not a queue token")
    return QueuePlace(event_id, band, int(counter), int(number))


def _queue_mac(body: str) -> str:
    key = hmac.new(get_settings().jwt_secret.encode(), b"queue-token", hashlib.sha256).digest()
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue_admission_token(*, event_id: str, admission_id: str, position: int) -> str:
    return _sign(event_id, ADMISSION_AUDIENCE, ADMISSION_LIFETIME,
                 {"jti": admission_id, "pos": position})  # fmt: skip


def decode_admission_token(token: str) -> tuple[str, str]:
    """(event id, admission id) of a valid, unexpired admission."""
    claims = _verify(token, ADMISSION_AUDIENCE)
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        raise InvalidToken("not an admission")
    return claims["sub"], claims["jti"]


def _sign(subject: str, audience: str, lifetime: timedelta, extra: dict) -> str:
    import jwt  # imported on use: see the module docstring

    settings = get_settings()
    now = utcnow()
    claims = {"sub": subject, "iat": now, "exp": now + lifetime, "iss": settings.app_url,
              "aud": audience, **extra}  # fmt: skip
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def _decoded(token: str, audience: str | list[str], required: list[str]) -> dict:
    """The claims of a token we signed for one of `audience`, checked by pyjwt."""
    import jwt  # imported on use: see the module docstring

    settings = get_settings()
    try:
        return jwt.decode(
            token,
            settings.jwt_secret,
            # An explicit list: never "none", never an algorithm the header picks.
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=settings.app_url,
            options={"require": required},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc


def _verify(token: str, audience: str) -> dict:
    if not isinstance(token, str) or len(token) > 2048:
        raise InvalidToken("not a token")
    claims = _decoded(token, audience, ["sub", "iat", "exp", "iss", "aud"])
    if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= MAX_SUBJECT:
        raise InvalidToken("bad subject")
    return claims
