"""Transactions with bounded retries, and what their failures mean."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.db.base import transaction
from chalicelib.errors import ServiceUnavailable

log = logging.getLogger(__name__)

# Raised by DynamoDB when it is overloaded or two transactions touch one item at once; worth
# another try. botocore already retries throttling of single calls; cancellations are ours.
TRANSIENT_CODES = frozenset(
    {
        "TransactionConflict",
        "ThrottlingError",
        "ThrottlingException",
        "ProvisionedThroughputExceeded",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "TransactionConflictException",  # a single write to an item a transaction holds
        "InternalServerError",
        "ServiceUnavailable",
    }
)
TRANSACTION_ATTEMPTS = 4


def cancellation_codes(exc: TransactWriteError) -> set[str]:
    return {reason.code for reason in exc.cancellation_reasons or [] if reason is not None}


def condition_failed(exc: PynamoDBException) -> bool:
    """True when a single-item write was refused by its condition expression."""
    return exc.cause_response_code == "ConditionalCheckFailedException"


def canceled_by_condition(exc: TransactWriteError) -> bool:
    """True when a transaction was cancelled because one of its conditions did not hold."""
    return "ConditionalCheckFailed" in cancellation_codes(exc)


def is_transient(exc: PynamoDBException) -> bool:
    """Throttling or contention: the same request may well succeed a moment later."""
    if isinstance(exc, TransactWriteError) and cancellation_codes(exc) & TRANSIENT_CODES:
        return not canceled_by_condition(exc)
    return exc.cause_response_code in TRANSIENT_CODES


def _contended(exc: TransactWriteError) -> bool:
    """Cancelled because of a conflict or throttling on an item, which botocore does not retry
    (whole-call throttling it has already retried with backoff before we see it)."""
    return bool(cancellation_codes(exc) & TRANSIENT_CODES) and not canceled_by_condition(exc)


def write(build: Callable[[TransactWrite], None]) -> None:
    """Commit the TransactWriteItems `build` describes, retrying contention with jittered backoff.

    A transaction is all or nothing, so a retry never leaves half a write behind. Condition
    failures are not retried: they are the caller's answer. Still failing after the last
    attempt is a ServiceUnavailable (503).
    """
    for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
        try:
            with transaction() as tx:
                build(tx)
            return
        except TransactWriteError as exc:
            if not _contended(exc):
                raise
            log.warning("transaction attempt %d failed: %s", attempt, cancellation_codes(exc))
            if attempt == TRANSACTION_ATTEMPTS:
                raise ServiceUnavailable(
                    "The service is busy; nothing was changed. Try again.", code="storage_busy"
                ) from exc
            time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311 - jitter, not crypto


def write_unless_refused(build: Callable[[TransactWrite], None]) -> bool:
    """Like `write`, but a condition that does not hold is an answer, not an error: False."""
    try:
        write(build)
    except TransactWriteError as exc:
        if canceled_by_condition(exc):
            return False
        raise
    return True
