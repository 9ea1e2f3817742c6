"""The side-effects worker: each message of the side-effects queue (an email, a webhook
attempt: chalicelib/services/stream/side_effects.py) carried out, the messages of a batch at once.

Deployed, this is its own Lambda function fed by the queue, ten messages a batch; it answers
with a partial batch response (ReportBatchItemFailures), so only the messages that failed come
back, after the queue's visibility timeout, and after five receives they are parked in the
dead-letter queue. Locally, `make run` feeds the emulator's queue to `carry_out_batch` the same
way (devstack/queue_worker.py); the tests drain the queue into it.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

bp = Blueprint(__name__)
log = logging.getLogger(__name__)

# Replaced in the deployment template by the side-effects queue's ARN.
QUEUE_SET_BY_TEMPLATE = "arn:aws:sqs:us-east-1:000000000000:set-by-deploy-template"
BATCH = 10


@bp.on_sqs_message(
    queue_arn=QUEUE_SET_BY_TEMPLATE,
    name="side_effects",
    batch_size=BATCH,
    maximum_batching_window_in_seconds=0,
)
def side_effects(event: SQSEvent) -> dict[str, Any]:
    outcomes = carry_out_batch([(r.to_dict()["messageId"], r.body) for r in event])
    return partial_batch_response(outcomes)


def carry_out_batch(messages: list[tuple[str, str]]) -> list[tuple[str, Exception | None]]:
    """(message id, the error or None) per (message id, body), each carried out on a thread of
    its own: a webhook that takes ten seconds delays nothing else in its batch."""
    from chalicelib.services.stream.side_effects import carry_out  # on use: the API never needs it

    def one(message: tuple[str, str]) -> tuple[str, Exception | None]:
        message_id, body = message
        try:
            carry_out(body)
        except Exception as exc:  # this message comes back; the others are done
            log.exception("side effect %s failed", message_id)
            return message_id, exc
        return message_id, None

    if len(messages) <= 1:
        return [one(m) for m in messages]
    with ThreadPoolExecutor(max_workers=len(messages)) as pool:
        return list(pool.map(one, messages))


def partial_batch_response(outcomes: list[tuple[str, Exception | None]]) -> dict[str, Any]:
    """What Lambda's SQS mapping reads to return only the failed messages to the queue."""
    return {
        "batchItemFailures": [
            {"itemIdentifier": message_id} for message_id, error in outcomes if error
        ]
    }
