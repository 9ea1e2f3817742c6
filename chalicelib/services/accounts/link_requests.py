"""Emailed links asked for by address (buyer access, password reset, a new verification link),
sent from the event stream instead of inside the request.

Such a request must not tell whether the address has an account or tickets, and its answer
time would: the request for a known address used to read more, write a link and call SES. Now
every request does the same work whoever asks: one read of the address's claim and one write,
the change `link.requested` naming what was asked for and whose claim it is (or nobody's). The
stream's consumer then checks everything and sends, or does nothing, where no one can time it.
"""

from __future__ import annotations

from pynamodb.transactions import TransactWrite

from chalicelib.db import transactions
from chalicelib.db.base import get_or_none
from chalicelib.db.uniques import UniqueClaim, unique_key
from chalicelib.email.addresses import normalize_email
from chalicelib.services.stream.changes import record as record_change

BUYER_ACCESS = "buyer_access"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a kind of link, not a password
VERIFICATION = "verification"
KINDS = (BUYER_ACCESS, PASSWORD_RESET, VERIFICATION)
CHANGE_TYPE = "link.requested"
NOBODY = "-"


def queue(kind: str, *, claim_kind: str, email: str) -> None:
    """Record that a `kind` link was asked for `email`: the same read and write either way."""
    claim = get_or_none(
        UniqueClaim, unique_key(claim_kind, normalize_email(email)), consistent_read=True
    )
    owner = claim.owner_id if claim is not None else NOBODY

    def build(tx: TransactWrite) -> None:
        record_change(
            tx, CHANGE_TYPE, actor=None, target_type=kind, target_id=owner,
            data={"kind": kind, "owner_id": owner},
        )  # fmt: skip

    transactions.write(build)


def owner_of(data: dict) -> str | None:
    owner = data.get("owner_id")
    return owner if isinstance(owner, str) and owner != NOBODY else None
