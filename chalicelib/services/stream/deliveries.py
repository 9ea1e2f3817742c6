"""At most one success per (change, destination), however often the stream delivers a record.

`once` claims the delivery with a conditional write before sending, marks it delivered after,
and releases it when sending fails (so the stream's retry sends again). A claim left by a
consumer that crashed mid-send runs out after CLAIM_LEASE and may then be sent again: the one
case where a destination can get a change twice is a crash between its send and its mark.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from pynamodb.exceptions import PutError

from chalicelib.db.base import utcnow
from chalicelib.db.changes import Change
from chalicelib.db.deliveries import DELIVERED, SENDING, Delivery
from chalicelib.db.transactions import condition_failed

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=2)


def once(change: Change, destination: str, send: Callable[[], None]) -> bool:
    """Run `send` unless this change already went to `destination` (or is going now);
    True if it ran. An exception from `send` releases the claim and propagates."""
    now = utcnow()
    delivery = Delivery(
        id=f"{change.id}:{destination}",
        change_id=change.id,
        destination=destination,
        type=change.type,
        status=SENDING,
        attempts=1,
        claimed_until=now + CLAIM_LEASE,
        created_at=now,
    )
    claimable = Delivery.id.does_not_exist() | (
        (Delivery.status == SENDING) & (Delivery.claimed_until < now)
    )
    try:
        delivery.save(condition=claimable)
    except PutError as exc:
        if not condition_failed(exc):
            raise
        log.info("delivery %s already done or under way", delivery.id)
        return False
    try:
        send()
    except Exception:
        delivery.delete(condition=Delivery.status == SENDING)
        raise
    delivery.update(
        actions=[Delivery.status.set(DELIVERED), Delivery.delivered_at.set(utcnow()),
                 Delivery.claimed_until.remove()],
    )  # fmt: skip
    return True
