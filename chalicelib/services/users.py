"""Rules about accounts."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from chalicelib.auth.passwords import hash_password
from chalicelib.db.base import new_id, transaction, utcnow
from chalicelib.db.uniques import USER_EMAIL, UniqueClaim, unique_key
from chalicelib.db.users import User

ADMIN = "admin"


def normalize_email(email: str) -> str:
    """The form an email is stored, compared and made unique in."""
    return email.strip().lower()


def ensure_admin(*, email: str, password: str) -> bool:
    """Create the first admin (verified) unless that email already has an account.

    Returns True when an account was created. Safe to run on every start and from several
    processes at once: the email claim's condition lets exactly one of them win.
    """
    email = normalize_email(email)
    now = utcnow()
    user = User(
        id=new_id(),
        email=email,
        name="Administrator",
        role=ADMIN,
        password_hash=hash_password(password),
        verified_at=now,
        created_at=now,
        updated_at=now,
    )
    claim = UniqueClaim(key=unique_key(USER_EMAIL, email), owner_id=user.id, created_at=now)
    try:
        with transaction() as tx:
            tx.save(claim, condition=UniqueClaim.key.does_not_exist())
            tx.save(user, condition=User.id.does_not_exist())
    except TransactWriteError as exc:
        if any(r and r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons):
            return False
        raise
    return True
