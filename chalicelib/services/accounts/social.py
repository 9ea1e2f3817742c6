"""Sign-in with Google or GitHub: one provider identity maps to one user, issued our own token."""

from __future__ import annotations

from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import ADMIN
from chalicelib.auth.tokens import IssuedToken, issue_token
from chalicelib.db import transactions
from chalicelib.db.base import get_or_none, utcnow
from chalicelib.db.uniques import UniqueClaim, unique_key
from chalicelib.db.users import User
from chalicelib.email.addresses import normalize_email
from chalicelib.errors import AccountBlocked, AdminRequiresPassword, Forbidden, ServiceUnavailable
from chalicelib.oauth.base import DeviceFlowProvider, Identity
from chalicelib.oauth.github import GitHub
from chalicelib.oauth.google import Google
from chalicelib.services.accounts.users import find_by_email, new_user, save_new_user
from chalicelib.settings import get_settings

IDENTITY = "identity"
LINK_ATTEMPTS = 3


def provider(name: str) -> DeviceFlowProvider:
    settings = get_settings()
    return {"google": Google, "github": GitHub}[name](settings)


def _identity_key(identity: Identity) -> str:
    return unique_key(IDENTITY, f"{identity.provider}:{identity.subject}")


def exchange_github_token(access_token: str) -> IssuedToken:
    """Sign in with a GitHub access token a front end obtained for our app (and only ours)."""
    github = GitHub(get_settings())
    github.check_issued_to_us(access_token)
    return sign_in(github.identity_from_token(access_token))


def sign_in(identity: Identity) -> IssuedToken:
    """The user behind this identity, created or linked on first sign-in; blocked users refused.

    Never an admin: an administrator's account is reached by its password only, so taking over
    an admin's email at a provider does not open the admin account.
    """
    user = _user_for(identity)
    if user.blocked:
        raise AccountBlocked()
    return issue_token(user_id=user.id, role=user.role, token_version=user.token_version)


def _user_for(identity: Identity) -> User:
    for _ in range(LINK_ATTEMPTS):
        claim = get_or_none(UniqueClaim, _identity_key(identity), consistent_read=True)
        if claim is not None:
            user = get_or_none(User, claim.owner_id, consistent_read=True)
            if user is not None:
                if user.role == ADMIN:
                    raise AdminRequiresPassword()
                return user
            claim.delete()  # the user was deleted: the identity starts afresh
            continue
        if not (identity.email and identity.email_verified):
            raise Forbidden(
                "The provider did not share a verified email address for this account.",
                code="email_not_verified_by_provider",
            )
        email = normalize_email(identity.email)
        existing = find_by_email(email)
        if existing is not None:
            if existing.role == ADMIN:
                raise AdminRequiresPassword()
            if _link(identity, existing):
                return get_or_none(User, existing.id, consistent_read=True) or existing
            continue
        user = new_user(
            email=email,
            password_hash=None,
            name=identity.name,
            role=None,  # chosen once later with PUT /myself
            verified=True,
            provider=identity.provider,
        )
        identity_claim = UniqueClaim(key=_identity_key(identity), owner_id=user.id)
        if save_new_user(user, also=(identity_claim,)):
            return user
    raise ServiceUnavailable("Sign-in raced with another; try again.", code="concurrent_change")


def _link(identity: Identity, user: User) -> bool:
    """Attach the identity to the account that already uses its verified email.

    The provider has just proven the person owns the email. If the account had never proven
    it, whoever registered it may not be that person: their password is dropped, so only the
    email's owner can get in (by this provider, or after setting a password).
    """
    now = utcnow()
    actions = [User.updated_at.set(now)]
    if not user.verified:
        actions += [
            User.verified_at.set(now),
            User.password_hash.remove(),
            User.verification_token_hash.remove(),
            User.token_version.add(1),
        ]

    def build(tx: TransactWrite) -> None:
        tx.save(
            UniqueClaim(key=_identity_key(identity), owner_id=user.id),
            condition=UniqueClaim.key.does_not_exist(),
        )
        tx.update(user, actions=actions, condition=User.email == user.email)

    return transactions.write_unless_refused(build)
