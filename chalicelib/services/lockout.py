"""Password checks under the lockout rule: three failures in a row block the account.

Each check first reserves an attempt with a conditional write (`failed_logins < 3` and not
blocked), then verifies the password. Parallel wrong guesses therefore cannot get more than
three password verifications in before the block: the fourth reservation is refused by
DynamoDB, whatever the interleaving, and a refused reservation verifies nothing.
"""

from __future__ import annotations

import json
import logging

from pynamodb.exceptions import UpdateError

from chalicelib.auth.passwords import dummy_verify, verify_password
from chalicelib.db.base import utcnow
from chalicelib.db.transactions import condition_failed
from chalicelib.db.users import BLOCKED_LIST, User
from chalicelib.errors import AccountBlocked

log = logging.getLogger(__name__)

MAX_FAILED_LOGINS = 3


def _reserve_attempt(user: User) -> bool:
    try:
        user.update(
            actions=[User.failed_logins.add(1)],
            condition=User.id.exists()
            & User.blocked_list.does_not_exist()
            & (User.failed_logins < MAX_FAILED_LOGINS),
        )
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def block(user: User) -> None:
    """Block the account and revoke its tokens; a no-op if it is already blocked."""
    now = utcnow()
    try:
        user.update(
            actions=[
                User.blocked_list.set(BLOCKED_LIST),
                User.blocked_at.set(now),
                User.token_version.add(1),
                User.updated_at.set(now),
            ],
            condition=User.id.exists() & User.blocked_list.does_not_exist(),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise


def _succeeded(user: User, new_hash: str | None) -> None:
    actions = [User.failed_logins.set(0)]
    if new_hash:
        # passlib says the stored hash uses outdated parameters: upgrade it now.
        actions.append(User.password_hash.set(new_hash))
    try:
        user.update(actions=actions, condition=User.blocked_list.does_not_exist())
    except UpdateError as exc:
        if condition_failed(exc):
            raise AccountBlocked() from None  # an admin blocked it while we were checking
        raise


def check_password(user: User, password: str) -> bool:
    """True if `password` is the user's; raises AccountBlocked instead of checking when blocked."""
    if not _reserve_attempt(user):
        dummy_verify(password)
        # A crash between the third reservation and the block would leave the account
        # unusable but unflagged; flag it so admins see it in the blocked list.
        block(user)
        raise AccountBlocked()
    if user.password_hash:
        ok, new_hash = verify_password(password, user.password_hash)
    else:  # social-login account without a password
        dummy_verify(password)
        ok, new_hash = False, None
    log.info(json.dumps({"event": "password_checked", "user_id": user.id, "ok": ok}))
    if ok:
        _succeeded(user, new_hash)
        return True
    if user.failed_logins >= MAX_FAILED_LOGINS:
        block(user)
    return False
