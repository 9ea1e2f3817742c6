"""What a door scanner runs to check a ticket with no network: the ticket's `qr` and the key
set from GET /ticket-keys, nothing else (no settings, no database).

    python -m chalicelib.auth.offline keys.json <qr>

prints the ticket's claims, or says why it is not valid (exit status 1). A valid signature
says the API issued the ticket; whether it was cancelled or already used is what the
revoked-tickets list and the check-in itself answer.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

ALGORITHM = "EdDSA"
CLAIMS = ("tid", "eid", "code", "iat")


class InvalidTicket(Exception):
    """Not signed by any of the given keys, or not a ticket's payload."""


@dataclass(frozen=True)
class VerifiedTicket:
    ticket_id: str
    event_id: str
    code: str
    issued_at: int
    kid: str


def verify_ticket(qr: str, key_set: dict[str, Any]) -> VerifiedTicket:
    """Check `qr` against a JWK set such as GET /ticket-keys returns."""
    import jwt

    try:
        header = jwt.get_unverified_header(qr)
    except jwt.PyJWTError as exc:
        raise InvalidTicket(f"not a JWS: {exc}") from None
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str):
        raise InvalidTicket("not an EdDSA signature with a key id")
    jwk = next((k for k in key_set.get("keys", []) if k.get("kid") == kid), None)
    if jwk is None:
        raise InvalidTicket(f"signed by an unknown key {kid!r}")
    try:
        key = jwt.PyJWK({**jwk, "alg": ALGORITHM}).key
        # iat is when the ticket was sold: a door scanner whose clock runs behind must not
        # refuse a ticket sold a minute ago, so its value is not compared with the clock.
        options = {"require": list(CLAIMS), "verify_iat": False}
        claims = jwt.decode(qr, key, algorithms=[ALGORITHM], options=options)
    except (jwt.PyJWTError, jwt.PyJWKError) as exc:
        raise InvalidTicket(str(exc)) from None
    iat = claims["iat"]
    if not all(isinstance(claims[name], str) for name in ("tid", "eid", "code")) or not (
        isinstance(iat, int) and not isinstance(iat, bool)
    ):
        raise InvalidTicket("malformed claims")
    return VerifiedTicket(
        ticket_id=claims["tid"], event_id=claims["eid"], code=claims["code"],
        issued_at=claims["iat"], kid=kid,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m chalicelib.auth.offline <keys.json> <qr>", file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as keys:
        key_set = json.load(keys)
    try:
        ticket = verify_ticket(args[1], key_set)
    except InvalidTicket as exc:
        print(f"not valid: {exc}")
        return 1
    print(json.dumps(ticket.__dict__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
