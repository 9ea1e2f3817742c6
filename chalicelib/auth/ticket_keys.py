"""The Ed25519 keys that sign tickets, and the signing.

A ticket's `qr` is a JWS in compact serialization (RFC 7515) signed with EdDSA over Ed25519
(RFC 8037), its key's `kid` in the header, over `{"tid", "eid", "code", "iat"}`. Whoever holds
the published public keys (GET /ticket-keys) can check it offline: `chalicelib.auth.offline`.

TICKET_KEYS is a JWK set of Ed25519 keys (`{"keys": [...]}`, from SSM in a deployment). The
first key signs and must hold its private part `d`; every key is published, so a rotation
puts a new key first and keeps the old ones listed while tickets they signed can still be
used. `python -m chalicelib.auth.ticket_keys new <kid>` prints a new key. The local stack
without TICKET_KEYS generates one key per process.

pyjwt and cryptography load on the first signature, not at a cold start.
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.settings import TICKET_KEYS, SettingsError, get_settings

ALGORITHM = "EdDSA"
PUBLIC_MEMBERS = ("kty", "crv", "kid", "x")


@dataclass(frozen=True)
class KeyRing:
    signing_kid: str
    signing_key: Any  # cryptography's Ed25519PrivateKey
    public: tuple[dict[str, str], ...]  # every key, as published JWKs

    def public_key(self, kid: str) -> Any | None:
        """The verifying key for `kid`, or None when no published key has that id."""
        import jwt

        for jwk in self.public:
            if jwk["kid"] == kid:
                return jwt.PyJWK({**jwk, "alg": ALGORITHM}).key
        return None


_lock = threading.Lock()
_ring: KeyRing | None = None


def new_private_jwk(kid: str) -> dict[str, str]:
    """A fresh Ed25519 private key as a JWK with this `kid`."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from jwt.algorithms import OKPAlgorithm

    jwk = json.loads(OKPAlgorithm.to_jwk(Ed25519PrivateKey.generate()))
    return {"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": jwk["x"], "d": jwk["d"]}


def local_key_set() -> str:
    """TICKET_KEYS for a local stack that was given none."""
    return json.dumps({"keys": [new_private_jwk(f"local-{secrets.token_hex(4)}")]})


def check_configured() -> None:
    """The API function's start: outside the local stack, TICKET_KEYS must be set."""
    settings = get_settings()
    if settings.strict and settings.ticket_keys is None:
        raise SettingsError(
            f"Missing required setting outside the local stack: {TICKET_KEYS} (or "
            f"{TICKET_KEYS}_PARAMETER, an SSM SecureString); "
            "`python -m chalicelib.auth.ticket_keys new <kid>` makes one."
        )


def _load(raw: str) -> KeyRing:
    import jwt

    keys = json.loads(raw)["keys"]  # the shape was checked with the other settings
    try:
        signing = jwt.PyJWK({**keys[0], "alg": ALGORITHM}).key
        public = tuple({name: key[name] for name in PUBLIC_MEMBERS} for key in keys)
        for jwk in public:  # each published key must load, or a scanner would choke on it
            jwt.PyJWK({**jwk, "alg": ALGORITHM})
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError) as exc:
        raise SettingsError(f"TICKET_KEYS holds a key that does not load: {exc}") from None
    return KeyRing(signing_kid=keys[0]["kid"], signing_key=signing, public=public)


def key_ring() -> KeyRing:
    """This process's keys, loaded once (and, locally without TICKET_KEYS, generated once)."""
    global _ring
    with _lock:
        if _ring is None:
            _ring = _load(get_settings().ticket_keys or local_key_set())
        return _ring


def sign_ticket(*, ticket_id: str, event_id: str, code: str, issued_at: datetime) -> str:
    """A ticket's `qr`: the signed JWS a scanner checks."""
    import jwt

    ring = key_ring()
    claims = {"tid": ticket_id, "eid": event_id, "code": code, "iat": int(issued_at.timestamp())}
    return jwt.encode(
        claims, ring.signing_key, algorithm=ALGORITHM, headers={"kid": ring.signing_kid}
    )


def published_keys() -> list[dict[str, str]]:
    """GET /ticket-keys: every public key, the signing one first."""
    return [{**jwk, "alg": ALGORITHM, "use": "sig"} for jwk in key_ring().public]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "new":
        print("usage: python -m chalicelib.auth.ticket_keys new <kid>", file=sys.stderr)
        return 2
    print(json.dumps({"keys": [new_private_jwk(args[1])]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
