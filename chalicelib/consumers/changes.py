"""The event stream's consumer: for each change recorded in the `changes` table (see
chalicelib/db/changes.py), chalicelib/services/stream/announcements.py records its webhook
deliveries and queues its emails and attempts for the side-effects worker
(consumers/side_effects.py): it sends nothing itself, so no receiver can slow it down.

Deployed, this is its own Lambda function fed by the table's stream; the template sets the
stream's ARN, retries, bisection on error and where failed batches are parked. Locally,
`make run` polls the emulator's stream and calls `handle_records` (devstack/stream_poller.py);
the tests drain the stream into it. A record that fails raises, so the whole batch comes back
(bisected) and records already carried out do nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from chalice import Blueprint
from chalice.app import DynamoDBEvent

bp = Blueprint(__name__)
log = logging.getLogger(__name__)

# Replaced in the deployment template by the changes table's own stream ARN.
STREAM_SET_BY_TEMPLATE = (
    "arn:aws:dynamodb:us-east-1:000000000000:table/changes/stream/set-by-deploy-template"
)


@bp.on_dynamodb_record(
    stream_arn=STREAM_SET_BY_TEMPLATE,
    name="changes_consumer",
    batch_size=25,
    starting_position="TRIM_HORIZON",
    maximum_batching_window_in_seconds=1,
)
def changes_consumer(event: DynamoDBEvent) -> None:
    handle_records((record.event_name, record.new_image, record.event_id) for record in event)


def handle_records(records: Iterable[tuple[str, dict[str, Any] | None, str]]) -> int:
    """Carry out each newly recorded change, in stream order; returns how many."""
    from chalicelib.db.changes import Change  # on use: the API function never needs these
    from chalicelib.services.stream import announcements, webhook_deliveries

    audience = webhook_deliveries.Audience()  # read once for the batch
    done = 0
    for event_name, new_image, event_id in records:
        if event_name != "INSERT" or not new_image:
            continue  # changes are only ever inserted (TTL removals come as REMOVE)
        change = Change.from_raw_data(new_image)
        log.info("stream record %s: %s %s", event_id, change.type, change.id)
        announcements.handle(change, audience)
        done += 1
    return done
