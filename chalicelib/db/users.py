"""Accounts: organizers, resellers and admins."""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.db.base import TableModel, table_meta, utcnow

# While an account is blocked its `blocked_list` holds this constant, which puts it in the
# sparse blocked-index; unblocking removes the attribute and with it the index entry.
BLOCKED_LIST = "blocked"


class UsersByRole(GlobalSecondaryIndex["User"]):
    class Meta:
        index_name = "role-index"
        projection = AllProjection()

    role = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class BlockedUsers(GlobalSecondaryIndex["User"]):
    class Meta:
        index_name = "blocked-index"
        projection = AllProjection()

    blocked_list = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class User(TableModel):
    Meta = table_meta("users")

    id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    # None until a social-login user picks organizer or reseller.
    role = UnicodeAttribute(null=True)
    password_hash = UnicodeAttribute(null=True)
    provider = UnicodeAttribute(default="email")
    verified_at = UTCDateTimeAttribute(null=True)
    blocked_list = UnicodeAttribute(null=True)
    blocked_at = UTCDateTimeAttribute(null=True)
    # Failed password checks since the last success; see services/accounts/lockout.py.
    failed_logins = NumberAttribute(default=0)
    # Password checks running now, as "<attempt id>:<expiry epoch seconds>"; see lockout.py.
    login_checks = UnicodeSetAttribute(null=True)
    # Bumped on block, delete, role or password change: tokens carry it, so old ones stop working.
    token_version = NumberAttribute(default=0)
    # The one verification link that currently works (its SHA-256); a resend replaces it.
    verification_token_hash = UnicodeAttribute(null=True)
    # Resend throttle: when the last email went, and how many went on `verification_day`.
    verification_sent_at = UTCDateTimeAttribute(null=True)
    verification_day = UnicodeAttribute(null=True)
    verification_sends = NumberAttribute(default=0)
    # The one password-reset link that currently works (its SHA-256); a newer one replaces it.
    reset_token_hash = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    by_role = UsersByRole()
    blocked_users = BlockedUsers()

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    @property
    def blocked(self) -> bool:
        return self.blocked_list is not None
