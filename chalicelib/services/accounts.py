"""Registration, email verification, login and the caller's own profile."""

from __future__ import annotations

import enum
import hashlib
import logging
import secrets
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib.auth.passwords import dummy_verify, hash_password
from chalicelib.auth.principal import SELLER_ROLES
from chalicelib.auth.tokens import IssuedToken, issue_token
from chalicelib.db import transactions
from chalicelib.db.base import get_or_none, utcnow
from chalicelib.db.users import User
from chalicelib.db.verifications import VerificationToken
from chalicelib.email.messages import verification_email
from chalicelib.email.sender import send_email
from chalicelib.errors import AccountNotVerified, InvalidRequest, UserExists, WrongCredentials
from chalicelib.services import lockout
from chalicelib.services.users import (
    find_by_email,
    new_user,
    normalize_email,
    save_new_user,
)
from chalicelib.settings import get_settings

log = logging.getLogger(__name__)

VERIFICATION_LIFETIME = timedelta(hours=24)
RESEND_INTERVAL = timedelta(minutes=1)
MAX_SENDS_PER_DAY = 5


class InvalidVerificationLink(InvalidRequest):
    code = "invalid_verification_link"
    message = "This verification link is invalid or has expired."


class Activation(enum.Enum):
    VERIFIED = "verified"
    ALREADY_VERIFIED = "already_verified"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _send_verification(user: User, token: str) -> bool:
    link = f"{get_settings().app_url}/activate/{token}"
    try:
        send_email(verification_email(to=user.email, name=user.name, link=link))
    except (BotoCoreError, ClientError):
        # The account stands; the person can ask for another link.
        log.exception("verification email to user %s failed", user.id)
        return False
    return True


def _new_verification(user_id: str) -> tuple[str, VerificationToken]:
    token = secrets.token_urlsafe(32)
    record = VerificationToken(
        token_hash=_token_hash(token),
        user_id=user_id,
        expires_at=utcnow() + VERIFICATION_LIFETIME,
    )
    return token, record


def _reissue_verification(user: User, *, replace: list | None = None) -> str | None:
    """Point the user at a fresh link if the resend throttle allows; None when throttled.

    The throttle lives in the user item and is applied by the write's condition: at most one
    email a minute and five a calendar day (UTC), whatever runs in parallel. The new link's
    hash replaces the old one in the same transaction, so older links stop working.
    """
    now = utcnow()
    today = now.date().isoformat()
    token, record = _new_verification(user.id)
    common = [
        User.verification_token_hash.set(record.token_hash),
        User.verification_sent_at.set(now),
        User.updated_at.set(now),
        *(replace or []),
    ]
    not_verified = User.id.exists() & User.verified_at.does_not_exist()
    quiet_for_a_minute = User.verification_sent_at.does_not_exist() | (
        User.verification_sent_at < now - RESEND_INTERVAL
    )
    attempts = [
        # Another email today, while under the daily cap.
        (
            [*common, User.verification_sends.add(1)],
            not_verified
            & quiet_for_a_minute
            & (User.verification_day == today)
            & (User.verification_sends < MAX_SENDS_PER_DAY),
        ),
        # The first email of a new day starts the count again.
        (
            [*common, User.verification_day.set(today), User.verification_sends.set(1)],
            not_verified
            & quiet_for_a_minute
            & (User.verification_day.does_not_exist() | (User.verification_day != today)),
        ),
    ]
    for actions, condition in attempts:

        def build(
            tx: TransactWrite, actions: list = actions, condition: Condition = condition
        ) -> None:
            tx.save(record, condition=VerificationToken.token_hash.does_not_exist())
            tx.update(user, actions=actions, condition=condition)

        if not transactions.write_unless_refused(build):
            continue
        return token
    return None


def register(*, email: str, password: str, name: str | None, role: str) -> User:
    """Create an unverified organizer or reseller and email them a verification link.

    Registering again while still unverified replaces the pending details (the latest
    registration wins) and re-sends the link, subject to the resend throttle.
    """
    if role not in SELLER_ROLES:
        raise InvalidRequest(details={"role": "Must be organizer or reseller."})
    email = normalize_email(email)
    password_hash = hash_password(password)
    for _ in range(2):  # a lost race against a parallel registration is retried once
        existing = find_by_email(email)
        if existing is not None:
            if existing.verified or existing.provider != "email":
                raise UserExists()
            token = _reissue_verification(
                existing,
                replace=[
                    User.password_hash.set(password_hash),
                    User.name.set(name),
                    User.role.set(role),
                ],
            )
            if token is not None:
                existing.refresh()
                _send_verification(existing, token)
            return existing
        user = new_user(email=email, password_hash=password_hash, name=name, role=role)
        token, record = _new_verification(user.id)
        now = utcnow()
        user.verification_token_hash = record.token_hash
        user.verification_sent_at = now
        user.verification_day = now.date().isoformat()
        user.verification_sends = 1
        if save_new_user(user, also=(record,)):
            _send_verification(user, token)
            return user
    raise UserExists()


def resend_verification(*, email: str) -> None:
    """Send a fresh link if the account exists, is unverified and the throttle allows.

    Says nothing either way, so the answer cannot tell whether an email has an account.
    """
    user = find_by_email(normalize_email(email))
    if user is None or user.verified:
        return
    token = _reissue_verification(user)
    if token is not None:
        _send_verification(user, token)


def activate(*, token: str) -> Activation:
    token_hash = _token_hash(token)
    record = get_or_none(VerificationToken, token_hash, consistent_read=True)
    if record is None or record.expires_at <= utcnow():
        raise InvalidVerificationLink()
    user = get_or_none(User, record.user_id, consistent_read=True)
    if user is None:
        raise InvalidVerificationLink()
    if user.verified:
        return Activation.ALREADY_VERIFIED
    try:
        user.update(
            actions=[
                User.verified_at.set(utcnow()),
                User.verification_token_hash.remove(),
                User.updated_at.set(utcnow()),
            ],
            # Single use, and only the newest link: the stored hash must still be this one.
            condition=User.id.exists()
            & User.verified_at.does_not_exist()
            & (User.verification_token_hash == token_hash),
        )
    except UpdateError as exc:
        if not transactions.condition_failed(exc):
            raise
        # Either a parallel click verified it first, or a newer link replaced this one.
        user = get_or_none(User, record.user_id, consistent_read=True)
        if user is not None and user.verified:
            return Activation.ALREADY_VERIFIED
        raise InvalidVerificationLink() from None
    return Activation.VERIFIED


def login(*, email: str, password: str) -> IssuedToken:
    user = find_by_email(normalize_email(email))
    if user is None:
        dummy_verify(password)
        raise WrongCredentials()
    if not lockout.check_password(user, password):
        raise WrongCredentials()
    if not user.verified:
        raise AccountNotVerified()
    return issue_token(user_id=user.id, role=user.role, token_version=user.token_version)
