"""Registration, email verification, password reset and login."""

from __future__ import annotations

import enum
import logging
from datetime import timedelta

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib.auth.passwords import dummy_verify, hash_password
from chalicelib.auth.principal import SELLER_ROLES, Principal
from chalicelib.auth.tokens import IssuedToken, issue_token
from chalicelib.db import index_parts, transactions
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import get_or_none, has_any, utcnow
from chalicelib.db.link_tokens import (
    RESET_PASSWORD,
    VERIFY_EMAIL,
    LinkToken,
    hash_token,
    new_link,
)
from chalicelib.db.tickets import Ticket
from chalicelib.db.uniques import USER_EMAIL, UniqueClaim, unique_key
from chalicelib.db.users import User
from chalicelib.email.addresses import normalize_email
from chalicelib.email.messages import password_reset_email, verification_email
from chalicelib.email.sender import EmailMessage
from chalicelib.errors import (
    AccountNotVerified,
    InvalidRequest,
    UserExists,
    WrongCredentials,
)
from chalicelib.services.accounts import link_requests, lockout
from chalicelib.services.accounts.users import (
    find_by_email,
    new_user,
    record_created,
    save_new_user,
)
from chalicelib.services.stream import notifications
from chalicelib.services.stream.changes import record as record_change
from chalicelib.settings import get_settings

log = logging.getLogger(__name__)

VERIFICATION_LIFETIME = timedelta(hours=24)
RESET_LIFETIME = timedelta(hours=1)
RESEND_INTERVAL = timedelta(minutes=1)
MAX_SENDS_PER_DAY = 5


class InvalidVerificationLink(InvalidRequest):
    code = "invalid_verification_link"
    message = "This verification link is invalid or has expired."


class InvalidResetLink(InvalidRequest):
    code = "invalid_reset_link"
    message = "This password reset link is invalid, used, replaced or expired."


class Activation(enum.Enum):
    VERIFIED = "verified"
    ALREADY_VERIFIED = "already_verified"


def _linked_user(token: str, purpose: str) -> tuple[User, str] | None:
    """The user a live link of this purpose points at, with the link's hash; else None."""
    token_hash = hash_token(token)
    record = get_or_none(LinkToken, token_hash, consistent_read=True)
    if record is None or record.purpose != purpose or record.expires_at <= utcnow():
        return None
    user = get_or_none(User, record.user_id, consistent_read=True)
    return (user, token_hash) if user is not None else None


def _send_verification(user: User, token: str) -> None:
    link = f"{get_settings().app_url}/activate/{token}"
    # The account stands if this fails; the person can ask for another link.
    notifications.send(verification_email(to=user.email, name=user.name, link=link))


def _reissue_verification(user: User) -> str | None:
    """Point the user at a fresh link if the resend throttle allows; None when throttled.

    The throttle lives in the user item and is applied by the write's condition: at most one
    email a minute and five a calendar day (UTC), whatever runs in parallel. The new link's
    hash replaces the old one in the same transaction, so older links stop working.
    """
    now = utcnow()
    today = now.date().isoformat()
    token, record = new_link(user.id, VERIFY_EMAIL, VERIFICATION_LIFETIME)
    common = [
        User.verification_token_hash.set(record.token_hash),
        User.verification_sent_at.set(now),
        User.updated_at.set(now),
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
            tx.save(record, condition=LinkToken.token_hash.does_not_exist())
            tx.update(user, actions=actions, condition=condition)

        if transactions.write_unless_refused(build):
            return token
    return None


def _released(user: User) -> bool:
    """An unverified password account whose newest link expired unused no longer holds its
    email: a new registration may take it. Anything else keeps the email taken."""
    return (
        user.provider == "email"
        and not user.verified
        and user.verification_sent_at is not None
        and user.verification_sent_at <= utcnow() - VERIFICATION_LIFETIME
        and not has_any(Allocation.by_seller.query(user.id, limit=1))
        and not any(
            has_any(Ticket.by_seller.query(key, limit=1))
            for key in index_parts.owner_parts(user.id)
        )
    )


def _replace_released(old: User, user: User, link: LinkToken) -> bool:
    """Swap the released account for the new one in one transaction; False if it changed."""
    claim = UniqueClaim(key=unique_key(USER_EMAIL, user.email), owner_id=user.id)

    def build(tx: TransactWrite) -> None:
        # Still unverified and no link sent since we looked: nobody proved the email meanwhile.
        tx.delete(
            old,
            condition=User.verified_at.does_not_exist()
            & (User.verification_sent_at == old.verification_sent_at),
        )
        tx.save(claim, condition=UniqueClaim.owner_id == old.id)
        tx.save(user, condition=User.id.does_not_exist())
        tx.save(link)
        record_change(
            tx, "user.deleted", actor=None, target_type="user", target_id=old.id,
            details={"reason": "unverified; its link expired and its email was registered again"},
        )  # fmt: skip
        record_created(tx, user, None)

    return transactions.write_unless_refused(build)


def register(*, email: str, password: str, name: str | None, role: str) -> User:
    """Create an unverified organizer or reseller and email them a verification link.

    An email already in use is a 409 whether or not its account is verified, and that account
    is left exactly as it was: a stranger cannot replace the password of an account whose
    owner has not clicked their link yet.
    """
    if role not in SELLER_ROLES:
        raise InvalidRequest(details={"role": "Must be organizer or reseller."})
    email = normalize_email(email)
    password_hash = hash_password(password)
    for _ in range(2):  # a lost race against a parallel registration is looked at again
        existing = find_by_email(email)
        if existing is not None and not _released(existing):
            raise UserExists()
        notifications.reserve(email)
        user = new_user(email=email, password_hash=password_hash, name=name, role=role)
        token, link = new_link(user.id, VERIFY_EMAIL, VERIFICATION_LIFETIME)
        now = utcnow()
        user.verification_token_hash = link.token_hash
        user.verification_sent_at = now
        user.verification_day = now.date().isoformat()
        user.verification_sends = 1
        if existing is None:
            created = save_new_user(user, also=(link,))
        else:
            created = _replace_released(existing, user, link)
        if created:
            _send_verification(user, token)
            return user
    raise UserExists()


def resend_verification(*, email: str) -> None:
    """Queue a fresh link for an unverified account; the same work either way, so neither
    the answer nor its time tells whether an email has an account (see link_requests)."""
    link_requests.queue(link_requests.VERIFICATION, claim_kind=USER_EMAIL, email=email)


def verification_again_email(user_id: str) -> EmailMessage | None:
    """The stream's part: a fresh link if the account exists, is unverified, and the resend
    throttle and the hourly email ceiling allow (None otherwise)."""
    user = get_or_none(User, user_id, consistent_read=True)
    if user is None or user.verified or not notifications.reserve_quietly(user.email):
        return None
    token = _reissue_verification(user)
    if token is None:
        return None
    link = f"{get_settings().app_url}/activate/{token}"
    return verification_email(to=user.email, name=user.name, link=link)


def activate(*, token: str) -> Activation:
    found = _linked_user(token, VERIFY_EMAIL)
    if found is None:
        raise InvalidVerificationLink()
    user, token_hash = found
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
        user = get_or_none(User, user.id, consistent_read=True)
        if user is not None and user.verified:
            return Activation.ALREADY_VERIFIED
        raise InvalidVerificationLink() from None
    return Activation.VERIFIED


def forgot_password(*, email: str) -> None:
    """Queue a single-use reset link for a known, unblocked account; the same work either way
    (services.accounts.link_requests)."""
    link_requests.queue(link_requests.PASSWORD_RESET, claim_kind=USER_EMAIL, email=email)


def reset_link_email(user_id: str) -> EmailMessage | None:
    """The stream's part: a reset link valid for an hour, for an account that exists and is
    not blocked (None otherwise). The new link's hash replaces the previous one on the user,
    so only the newest link works."""
    user = get_or_none(User, user_id, consistent_read=True)
    if user is None or user.blocked or not notifications.reserve_quietly(user.email):
        return None
    token, link = new_link(user.id, RESET_PASSWORD, RESET_LIFETIME)

    def build(tx: TransactWrite) -> None:
        tx.save(link, condition=LinkToken.token_hash.does_not_exist())
        tx.update(
            user,
            actions=[User.reset_token_hash.set(link.token_hash)],
            condition=User.id.exists() & User.blocked_list.does_not_exist(),
        )

    if not transactions.write_unless_refused(build):
        return None  # deleted or blocked meanwhile
    url = f"{get_settings().app_url}/reset-password/{token}"
    return password_reset_email(to=user.email, name=user.name, link=url)


def check_reset_link(*, token: str) -> None:
    """Raise InvalidResetLink unless the link would reset a password now (reads only)."""
    found = _linked_user(token, RESET_PASSWORD)
    if found is None or found[0].reset_token_hash != found[1]:
        raise InvalidResetLink()


def reset_password(*, token: str, password: str) -> None:
    """Set a new password from the newest reset link, once.

    The email is proven by the link, so the account becomes verified; every token issued
    before stops working and the failure count starts again. A blocked account stays blocked:
    only an admin unblocks.
    """
    found = _linked_user(token, RESET_PASSWORD)
    if found is None:
        raise InvalidResetLink()
    user, token_hash = found
    now = utcnow()
    actions = [
        User.password_hash.set(hash_password(password)),
        User.verified_at.set(User.verified_at | now),
        User.verification_token_hash.remove(),
        User.reset_token_hash.remove(),
        User.failed_logins.set(0),
        User.token_version.add(1),
        User.updated_at.set(now),
    ]

    def build(tx: TransactWrite) -> None:
        # Single use, newest link only: a used or replaced link no longer matches.
        tx.update(
            user, actions=actions,
            condition=User.id.exists() & (User.reset_token_hash == token_hash),
        )  # fmt: skip
        record_change(
            tx, "user.password_reset", actor=Principal(user_id=user.id, role=user.role),
            target_type="user", target_id=user.id, details={"by": "emailed link"},
        )  # fmt: skip

    if not transactions.write_unless_refused(build):
        raise InvalidResetLink()


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
