"""Accounts as records: lookup by email, creation with a unique email, admin management."""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.auth.passwords import hash_password
from chalicelib.auth.principal import ADMIN, SELLER_ROLES, Principal
from chalicelib.db import transactions
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import get_or_none, new_id, utcnow
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.db.tickets import Ticket, any_live
from chalicelib.db.uniques import USER_EMAIL, UniqueClaim, unique_key
from chalicelib.db.users import BLOCKED_LIST, User
from chalicelib.email.addresses import normalize_email
from chalicelib.errors import Conflict, Forbidden, InvalidRequest, NotFound, UserExists
from chalicelib.services.accounts import lockout
from chalicelib.services.stream.changes import record as record_change


def find_by_email(email: str) -> User | None:
    claim = get_or_none(UniqueClaim, unique_key(USER_EMAIL, email), consistent_read=True)
    if claim is None:
        return None
    return get_or_none(User, claim.owner_id, consistent_read=True)


def new_user(
    *,
    email: str,
    password_hash: str | None,
    name: str | None,
    role: str | None,
    verified: bool = False,
    provider: str = "email",
) -> User:
    now = utcnow()
    return User(
        id=new_id(),
        email=email,
        name=name,
        role=role,
        password_hash=password_hash,
        provider=provider,
        verified_at=now if verified else None,
        created_at=now,
        updated_at=now,
    )


def save_new_user(
    user: User, *, also: tuple[Model, ...] = (), created_by: Principal | None = None
) -> bool:
    """Write the user, its email claim, `also` and the audit entry in one transaction.
    `created_by`: the admin who created it; None when people sign themselves up.

    False when the email is already claimed: the claim's condition is what keeps emails
    unique when two registrations of one address race.
    """
    claim = UniqueClaim(key=unique_key(USER_EMAIL, user.email), owner_id=user.id)

    def build(tx: TransactWrite) -> None:
        tx.save(claim, condition=UniqueClaim.key.does_not_exist())
        tx.save(user, condition=User.id.does_not_exist())
        for item in also:
            tx.save(item)
        record_created(tx, user, created_by)

    return transactions.write_unless_refused(build)


def ensure_admin(*, email: str, password: str) -> bool:
    """Create the first admin (verified) unless that email already has an account.

    Returns True when an account was created. Safe to run on every start and from several
    processes at once: the email claim's condition lets exactly one of them win.
    """
    user = new_user(
        email=normalize_email(email),
        password_hash=hash_password(password),
        name="Administrator",
        role=ADMIN,
        verified=True,
    )
    return save_new_user(user)


def _require_admin_or_self(actor: Principal, user_id: str) -> None:
    if not actor.is_admin and actor.user_id != user_id:
        raise Forbidden()


def get_user(*, actor: Principal, user_id: str) -> User:
    _require_admin_or_self(actor, user_id)
    user = get_or_none(User, user_id, consistent_read=True)
    if user is None:
        raise NotFound()
    return user


def list_users(
    *,
    actor: Principal,
    role: str | None,
    blocked: bool | None,
    limit: int,
    next_token: str | None,
) -> Page[User]:
    """Admin listing; each combination of filters reads one index page (or one scan page)."""
    if not actor.is_admin:
        raise Forbidden()
    role_filter = (User.role == role) if role else None
    if blocked:
        query = lambda **kw: User.blocked_users.query(  # noqa: E731
            BLOCKED_LIST, filter_condition=role_filter, **kw
        )
    elif role:
        not_blocked = User.blocked_list.does_not_exist() if blocked is False else None
        query = lambda **kw: User.by_role.query(role, filter_condition=not_blocked, **kw)  # noqa: E731
    else:
        not_blocked = User.blocked_list.does_not_exist() if blocked is False else None
        query = lambda **kw: User.scan(filter_condition=not_blocked, **kw)  # noqa: E731
    scope = f"users:role={role}:blocked={blocked}"
    return fetch_page(User, query, scope=scope, limit=limit, next_token=next_token)


def create_user(*, actor: Principal, email: str, password: str, name: str, role: str) -> User:
    """An admin creates a verified organizer or reseller."""
    if not actor.is_admin:
        raise Forbidden()
    if role not in SELLER_ROLES:
        raise InvalidRequest(details={"role": "Must be organizer or reseller."})
    user = new_user(
        email=normalize_email(email),
        password_hash=hash_password(password),
        name=name,
        role=role,
        verified=True,
    )
    if not save_new_user(user, created_by=actor):
        raise UserExists()
    return user


def record_created(tx: TransactWrite, user: User, created_by: Principal | None) -> None:
    actor = created_by or Principal(user_id=user.id, role=user.role)  # signed up themselves
    record_change(
        tx, "user.created", actor=actor, target_type="user", target_id=user.id,
        details={"role": user.role or "", "provider": user.provider},
    )  # fmt: skip


@dataclass(frozen=True)
class UserChanges:
    name: str | None = None
    email: str | None = None
    password: str | None = None
    current_password: str | None = None
    role: str | None = None
    blocked: bool | None = None
    verified: bool | None = None


ADMIN_ONLY_FIELDS = ("email", "blocked", "verified")


# Unblocking also forgives the failures that caused the block.
UNBLOCK_ACTIONS = (
    User.blocked_list.remove(),
    User.blocked_at.remove(),
    User.failed_logins.set(0),
)


def update_user(*, actor: Principal, user_id: str, changes: UserChanges) -> User:
    """Admins change anything on other accounts; everyone changes their own name and password
    (with the current password) and picks a role once if it is still unset."""
    user = get_user(actor=actor, user_id=user_id)
    acting_on_self = actor.user_id == user_id
    if acting_on_self:
        forbidden = [f for f in ADMIN_ONLY_FIELDS if getattr(changes, f) is not None]
        if forbidden:
            raise Forbidden(
                details={f: "You cannot change this on your own account." for f in forbidden}
            )
        if changes.role is not None and user.role is not None and changes.role != user.role:
            raise Conflict("Role is already set.", code="role_already_set")
        if changes.password is not None:
            if changes.current_password is None:
                raise InvalidRequest(
                    details={"current_password": "Required to change the password."}
                )
            if not lockout.check_password(user, changes.current_password):
                raise InvalidRequest(details={"current_password": "Incorrect password."})
    if changes.role is not None and changes.role not in SELLER_ROLES:
        raise InvalidRequest(details={"role": "Must be organizer or reseller."})

    now = utcnow()
    actions = [User.updated_at.set(now)]
    revoke_tokens = False
    condition = User.id.exists()
    if changes.name is not None:
        actions.append(User.name.set(changes.name))
    if changes.password is not None:
        actions.append(User.password_hash.set(hash_password(changes.password)))
        revoke_tokens = True
    if changes.role is not None and changes.role != user.role:
        actions.append(User.role.set(changes.role))
        revoke_tokens = True
        if acting_on_self:
            # Picking a role is allowed once: only while it is still unset in the table.
            condition &= User.role.does_not_exist()
    if changes.verified is True and not user.verified:
        actions.append(User.verified_at.set(now))
    elif changes.verified is False and user.verified:
        actions.append(User.verified_at.remove())
    blocking = changes.blocked is True and not user.blocked
    if blocking:
        actions += [User.blocked_list.set(BLOCKED_LIST), User.blocked_at.set(now)]
        revoke_tokens = True
    elif changes.blocked is False:
        actions += UNBLOCK_ACTIONS
    if revoke_tokens:
        actions.append(User.token_version.add(1))

    audits = _audits(actor, user, changes, blocking=blocking)
    new_email = normalize_email(changes.email) if changes.email is not None else None
    if new_email is not None and new_email != user.email:
        _change_email(user, new_email, actions, condition, audits, actor)
        user.refresh(consistent_read=True)
        return user

    def build(tx: TransactWrite) -> None:
        tx.update(user, actions=actions, condition=condition)
        _record(tx, actor, user, audits)

    if not transactions.write_unless_refused(build):
        if get_or_none(User, user_id) is None:
            raise NotFound() from None
        raise Conflict("Role is already set.", code="role_already_set") from None
    user.refresh(consistent_read=True)  # a block's notice follows from the event stream
    return user


def _audits(
    actor: Principal, user: User, changes: UserChanges, *, blocking: bool
) -> list[tuple[str, dict[str, str]]]:
    """The audit entries an update writes: (action, details)."""
    audits = []
    if blocking:
        audits.append(("user.blocked", {"reason": "admin"}))
    elif changes.blocked is False and user.blocked:
        audits.append(("user.unblocked", {"failed_logins": str(user.failed_logins or 0)}))
    if changes.role is not None and changes.role != user.role:
        audits.append(("user.role_changed", {"from": user.role or "", "to": changes.role}))
    if changes.password is not None and actor.user_id != user.id:
        audits.append(("user.password_reset", {"by": "admin"}))
    return audits


def _record(
    tx: TransactWrite, actor: Principal, user: User, audits: list[tuple[str, dict[str, str]]]
) -> None:
    for action, details in audits:
        record_change(tx, action, actor=actor, target_type="user", target_id=user.id,
                       details=details)  # fmt: skip


def operator_unblock(*, email: str) -> bool | None:
    """The operators' break-glass (the setup step's `unblock`), for any account, the only admin
    included. True if it was blocked, False if not, None if no account uses the email."""
    user = find_by_email(normalize_email(email))
    if user is None:
        return None
    was_blocked = user.blocked

    def build(tx: TransactWrite) -> None:
        tx.update(
            user, actions=[*UNBLOCK_ACTIONS, User.updated_at.set(utcnow())],
            condition=User.id.exists(),
        )  # fmt: skip
        if was_blocked:
            record_change(tx, "user.unblocked", actor=None, target_type="user",
                           target_id=user.id, details={"by": "operator"})  # fmt: skip

    transactions.write(build)
    return was_blocked


def _change_email(
    user: User,
    new_email: str,
    actions: list,
    condition: Condition,
    audits: list[tuple[str, dict[str, str]]],
    actor: Principal | None = None,
) -> None:
    """Move the email claim and the user's email in one transaction."""
    old_claim = UniqueClaim(key=unique_key(USER_EMAIL, user.email), owner_id=user.id)
    new_claim = UniqueClaim(key=unique_key(USER_EMAIL, new_email), owner_id=user.id)

    def build(tx: TransactWrite) -> None:
        tx.delete(old_claim, condition=UniqueClaim.owner_id == user.id)
        tx.save(new_claim, condition=UniqueClaim.key.does_not_exist())
        tx.update(user, actions=[*actions, User.email.set(new_email)], condition=condition)
        if actor is not None:
            _record(tx, actor, user, audits)

    if not transactions.write_unless_refused(build):
        raise UserExists()


def delete_user(*, actor: Principal, user_id: str) -> None:
    """Admins remove accounts; a seller still holding allocations or sales must be cleared first."""
    if not actor.is_admin:
        raise Forbidden()
    if actor.user_id == user_id:
        raise Conflict("You cannot delete your own account.", code="cannot_delete_self")
    user = get_or_none(User, user_id, consistent_read=True)
    if user is None:
        raise NotFound()
    # A pool with nothing left to sell stays as the record of what its seller sold (reports).
    if any(p.number_of_tickets or p.sold or p.held for p in Allocation.by_seller.query(user_id)):
        raise Conflict(
            "The user still holds ticket allocations; remove them first.",
            code="user_has_allocations",
        )
    if any_live(Ticket.by_seller, user_id):
        raise Conflict(
            "The user has sold tickets; cancel or reassign them first.",
            code="user_has_sales",
        )
    claim = UniqueClaim(key=unique_key(USER_EMAIL, user.email), owner_id=user.id)

    def build(tx: TransactWrite) -> None:
        tx.delete(user, condition=User.id.exists())
        tx.delete(claim, condition=UniqueClaim.owner_id == user.id)
        record_change(tx, "user.deleted", actor=actor, target_type="user", target_id=user.id,
                       details={"role": user.role or ""})  # fmt: skip

    if not transactions.write_unless_refused(build):
        raise NotFound()
