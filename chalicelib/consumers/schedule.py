"""Scheduled work: webhook deliveries whose next attempt is due, every minute (its own Lambda
function deployed; `make run`'s stream poller calls `retry_due` every second instead)."""

from __future__ import annotations

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="webhook_retries")
def webhook_retries(event: CloudWatchEvent) -> None:
    from chalicelib.services import webhooks  # on use: the API function never needs it

    webhooks.retry_due()
