"""Idempotency-Key handling, as in Stripe's API and the IETF idempotency-key draft.

A retry with the same key and request gets the first result instead of doing the work again;
the same key with a different request is refused (422); a retry while the first attempt still
runs is told so (409). The record is completed inside the work's own transaction, so "done"
and "recorded as done" can never disagree.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.db.base import get_or_none, utcnow
from chalicelib.db.idempotency import COMPLETED, IN_PROGRESS, IdempotencyRecord
from chalicelib.db.transactions import condition_failed
from chalicelib.errors import Conflict, InvalidRequest, Unprocessable

RECORD_LIFETIME = timedelta(hours=24)
LEASE = timedelta(seconds=30)
MAX_KEY_LENGTH = 255


class KeyReused(Unprocessable):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was used with a different request."


class StillRunning(Conflict):
    code = "idempotency_in_progress"
    message = "A request with this Idempotency-Key is still being processed; retry shortly."


@dataclass(frozen=True)
class Lease:
    key: str
    holder: str


@dataclass(frozen=True)
class Replay:
    result: dict[str, Any]


def validate_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(
            details={"Idempotency-Key": f"Must be 1-{MAX_KEY_LENGTH} printable characters."}
        )
    return key


def begin(*, scope: str, key: str, fingerprint: str) -> Lease | Replay:
    """Take the key for this attempt, or learn the first attempt's result."""
    record_key = f"{scope}:{validate_key(key)}"
    for _ in range(3):
        now = utcnow()
        holder = secrets.token_hex(16)
        record = IdempotencyRecord(
            key=record_key,
            fingerprint=fingerprint,
            status=IN_PROGRESS,
            holder=holder,
            lease_until=now + LEASE,
            created_at=now,
            expires_at=now + RECORD_LIFETIME,
        )
        try:
            # A fresh key, or one whose record expired but has not been swept by TTL yet.
            record.save(
                condition=IdempotencyRecord.key.does_not_exist()
                | (IdempotencyRecord.expires_at < now)
            )
            return Lease(key=record_key, holder=holder)
        except PutError as exc:
            if not condition_failed(exc):
                raise
        existing = get_or_none(IdempotencyRecord, record_key, consistent_read=True)
        if existing is None:
            continue
        if existing.fingerprint != fingerprint:
            raise KeyReused()
        if existing.status == COMPLETED:
            return Replay(result=json.loads(existing.result or "{}"))
        if existing.lease_until > now:
            raise StillRunning()
        try:
            # The first attempt died holding the lease: take it over, once.
            existing.update(
                actions=[
                    IdempotencyRecord.holder.set(holder),
                    IdempotencyRecord.lease_until.set(now + LEASE),
                ],
                condition=(IdempotencyRecord.status == IN_PROGRESS)
                & (IdempotencyRecord.holder == existing.holder),
            )
            return Lease(key=record_key, holder=holder)
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            raise StillRunning() from None
    raise StillRunning()


def complete_in(tx: TransactWrite, lease: Lease, result: dict[str, Any]) -> None:
    """Add 'completed with this result' to the transaction doing the work."""
    tx.update(
        IdempotencyRecord(key=lease.key),
        actions=[
            IdempotencyRecord.status.set(COMPLETED),
            IdempotencyRecord.result.set(json.dumps(result)),
        ],
        condition=(IdempotencyRecord.holder == lease.holder)
        & (IdempotencyRecord.status == IN_PROGRESS),
    )


def amend_result(lease: Lease, result: dict[str, Any]) -> None:
    """Record what happened after the work (e.g. whether the email went)."""
    IdempotencyRecord(key=lease.key).update(
        actions=[IdempotencyRecord.result.set(json.dumps(result))],
        condition=IdempotencyRecord.holder == lease.holder,
    )


def release(lease: Lease) -> None:
    """The work failed and changed nothing: let a retry run it again."""
    try:
        IdempotencyRecord(key=lease.key).delete(
            condition=(IdempotencyRecord.holder == lease.holder)
            & (IdempotencyRecord.status == IN_PROGRESS)
        )
    except DeleteError as exc:
        if not condition_failed(exc):
            raise


def fingerprint(*parts: Any) -> str:
    """A stable hash of what a request asks for."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
