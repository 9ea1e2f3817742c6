"""Password hashing through passlib, so the scheme can be upgraded with rehash on login."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from passlib.context import CryptContext


@cache
def _context() -> CryptContext:
    """Built on first use: passlib and argon2 cost every cold start ~10 ms, and most requests
    never see a password."""
    from passlib.context import CryptContext

    # argon2id at OWASP's minimum recommendation (m=19 MiB, t=2, p=1): about 35 ms a hash here.
    # `deprecated="auto"` marks any other scheme or parameters as due for a rehash.
    return CryptContext(
        schemes=["argon2"],
        deprecated="auto",
        argon2__type="ID",
        argon2__memory_cost=19 * 1024,
        argon2__rounds=2,
        argon2__parallelism=1,
    )


def hash_password(password: str) -> str:
    return _context().hash(password)


def verify_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """Check a password; on success also return a new hash when the stored one is outdated."""
    return _context().verify_and_update(password, password_hash)


_dummy_hash: str | None = None


def dummy_verify(password: str) -> None:
    """Spend what a real check costs, so unknown and blocked accounts answer in the same time."""
    global _dummy_hash
    if _dummy_hash is None:
        # Racing threads may each build one; any of them serves equally well.
        _dummy_hash = hash_password("dummy password for timing only")
    _context().verify(password, _dummy_hash)
