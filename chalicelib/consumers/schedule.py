"""Scheduled work, every minute, each its own Lambda function deployed: webhook attempts whose
time has come, handed to the side-effects queue, and reserved orders whose hold has run out
(`make run`'s stream poller calls both every few seconds instead)."""

from __future__ import annotations

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="webhook_retries")
def webhook_retries(event: CloudWatchEvent) -> None:
    from chalicelib.services.stream import webhook_deliveries  # on use: the API never needs it

    webhook_deliveries.queue_due()


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="order_expiry")
def order_expiry(event: CloudWatchEvent) -> None:
    from chalicelib.services.sales import orders  # on use: the API function imports it anyway

    orders.sweep()
