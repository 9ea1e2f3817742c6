"""Idempotency-Key handling, as in Stripe's API and the IETF idempotency-key draft.

A retry with the same key and request gets the first result instead of doing the work again;
the same key with a different request is refused (422). The record is created inside the work's
own transaction, on condition that no live record has the key: "done" and "recorded as done"
can never disagree, two parallel attempts with one key cannot both do the work (the loser's
transaction is refused and it replays the winner's result), and a failed attempt leaves the key
free. The caller reads the record together with whatever else it reads first, so a key costs
no call of its own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib.db.base import utcnow
from chalicelib.db.idempotency import IdempotencyRecord
from chalicelib.errors import InvalidRequest, Unprocessable

RECORD_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class KeyReused(Unprocessable):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was used with a different request."


@dataclass(frozen=True)
class Replay:
    result: dict[str, Any]


def validate_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(
            details={"Idempotency-Key": f"Must be 1-{MAX_KEY_LENGTH} printable characters."}
        )
    return key


def record_key(*, scope: str, key: str) -> str:
    """The record's key: the caller's scope and the client's key, so callers never share one."""
    return f"{scope}:{validate_key(key)}"


def replay_of(record: IdempotencyRecord | None, fingerprint: str) -> Replay | None:
    """The first result if a live record holds the key; None if the key is free."""
    if record is None or record.expires_at <= utcnow():
        return None
    if record.fingerprint != fingerprint:
        raise KeyReused()
    return Replay(result=json.loads(record.result or "{}"))


def record_in(tx: TransactWrite, key: str, fingerprint: str, result: dict[str, Any]) -> None:
    """Add 'done, with this result' to the transaction doing the work."""
    now = utcnow()
    tx.save(
        IdempotencyRecord(
            key=key,
            fingerprint=fingerprint,
            result=json.dumps(result),
            created_at=now,
            expires_at=now + RECORD_LIFETIME,
        ),
        # A free key, or one whose record expired but has not been swept by TTL yet.
        condition=IdempotencyRecord.key.does_not_exist() | (IdempotencyRecord.expires_at < now),
    )


def fingerprint(*parts: Any) -> str:
    """A stable hash of what a request asks for."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
