"""Password checks under the lockout rule: three failed logins in a row block the account.

Only failures count. A check first takes one of the account's check slots with a conditional
write: the write requires `failures + running checks < 3`, so parallel wrong guesses cannot
get more than three password verifications before the block, whatever the interleaving. A
correct password frees its slot and clears the failures; when every slot is taken by checks
still running, the caller is asked to retry (429), never blocked. A slot abandoned by a crash
expires after CHECK_LEASE, so it cannot hold a place for ever.
"""

from __future__ import annotations

import json
import logging
import time
import uuid

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition, size
from pynamodb.transactions import TransactWrite

from chalicelib.auth.passwords import dummy_verify, verify_password
from chalicelib.db import transactions
from chalicelib.db.base import get_or_none, utcnow
from chalicelib.db.transactions import condition_failed
from chalicelib.db.users import BLOCKED_LIST, User
from chalicelib.errors import AccountBlocked, TooManyAttempts, WrongCredentials
from chalicelib.services.stream.changes import record as record_change

log = logging.getLogger(__name__)

MAX_FAILED_LOGINS = 3
# Far above an argon2 check (tens of milliseconds), far below a person's patience.
CHECK_LEASE_S = 30
RESERVE_ATTEMPTS = 5


def _expiry(slot: str) -> float:
    return float(slot.rpartition(":")[2])


def _update_existing(user: User, actions: list, condition: Condition | None = None) -> bool:
    """Update the user unless it was deleted meanwhile (an unconditional UpdateItem would
    bring back a ghost item holding only these attributes). False when it is gone, or when
    `condition` does not hold."""
    exists = User.id.exists()
    try:
        user.update(actions=actions, condition=exists if condition is None else exists & condition)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return False
    return True


def _release_expired(user: User, expired: set[str]) -> None:
    """Forget slots whose checks crashed; deleting set elements is safe to race."""
    _update_existing(user, [User.login_checks.delete(expired)])


def _take_slot(user: User) -> str:
    """Reserve one password check, or refuse: blocked (403) or all slots running (429)."""
    for _ in range(RESERVE_ATTEMPTS):
        if user.blocked:
            raise AccountBlocked()
        failures = int(user.failed_logins or 0)
        if failures >= MAX_FAILED_LOGINS:
            # A crash between the third failure and its block left it unflagged: flag it now.
            block(user, reason="failed_logins")
            raise AccountBlocked()
        now = time.time()
        running = set(user.login_checks or ())
        expired = {slot for slot in running if _expiry(slot) <= now}
        if expired:
            _release_expired(user, expired)
            user.refresh(consistent_read=True)
            continue
        free = MAX_FAILED_LOGINS - failures
        if len(running) >= free:
            raise TooManyAttempts(retry_after=1)
        slot = f"{uuid.uuid4().hex}:{int(now) + CHECK_LEASE_S}"
        same_failures = User.failed_logins == failures
        if failures == 0:
            same_failures |= User.failed_logins.does_not_exist()
        try:
            user.update(
                actions=[User.login_checks.add({slot})],
                # failures + running checks stay within three: the failure count must be the
                # one read (a parallel failure makes us recount) and a slot must be free.
                condition=User.id.exists()
                & User.blocked_list.does_not_exist()
                & same_failures
                & (User.login_checks.does_not_exist() | (size(User.login_checks) < free)),
            )
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            user.refresh(consistent_read=True)
            continue
        return slot
    raise TooManyAttempts(retry_after=1)


def block(user: User, *, reason: str) -> bool:
    """Block the account, revoke its tokens and tell its owner; False if already blocked. The
    audit entry (with the failures that caused it) commits with the block."""
    now = utcnow()
    actions = [
        User.blocked_list.set(BLOCKED_LIST),
        User.blocked_at.set(now),
        User.token_version.add(1),
        User.updated_at.set(now),
    ]

    def build(tx: TransactWrite) -> None:
        tx.update(
            user, actions=actions, condition=User.id.exists() & User.blocked_list.does_not_exist()
        )
        record_change(
            tx, "user.blocked", actor=None, target_type="user", target_id=user.id,
            details={"reason": reason, "failed_logins": int(user.failed_logins or 0)},
        )  # fmt: skip

    if not transactions.write_unless_refused(build):
        return False
    # The owner's notice follows from the event stream (services/stream/announcements.py).
    log.info(json.dumps({"event": "account_blocked", "user_id": user.id, "reason": reason}))
    return True


def _succeeded(user: User, slot: str, new_hash: str | None) -> None:
    actions = [User.failed_logins.set(0), User.login_checks.delete({slot})]
    if new_hash:
        # passlib says the stored hash uses outdated parameters: upgrade it now.
        actions.append(User.password_hash.set(new_hash))
    if not _update_existing(user, actions, User.blocked_list.does_not_exist()):
        # Blocked by an admin, or deleted, while we were checking.
        if get_or_none(User, user.id, consistent_read=True) is None:
            raise WrongCredentials()
        raise AccountBlocked()


def _failed(user: User, slot: str) -> None:
    counted = _update_existing(user, [User.failed_logins.add(1), User.login_checks.delete({slot})])
    if counted and user.failed_logins >= MAX_FAILED_LOGINS:
        block(user, reason="failed_logins")


def check_password(user: User, password: str) -> bool:
    """True if `password` is the user's. Blocked: AccountBlocked; busy: TooManyAttempts."""
    try:
        slot = _take_slot(user)
    except AccountBlocked:
        dummy_verify(password)  # a blocked account answers in the time a real check takes
        raise
    if user.password_hash:
        ok, new_hash = verify_password(password, user.password_hash)
    else:  # social-login account without a password
        dummy_verify(password)
        ok, new_hash = False, None
    log.info(json.dumps({"event": "password_checked", "user_id": user.id, "ok": ok}))
    if ok:
        _succeeded(user, slot, new_hash)
        return True
    _failed(user, slot)
    return False
