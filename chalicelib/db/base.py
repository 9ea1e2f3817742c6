"""What every table model shares: where the table lives and what it is called."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from chalicelib.settings import get_settings


def table_meta(base_name: str) -> type:
    """A pynamodb `Meta` for the table `base_name` in this stage's account and endpoint."""
    settings = get_settings()

    class Meta:
        table_name = settings.table_name(base_name)
        region = settings.aws_region
        host = settings.aws_endpoint_url
        billing_mode = "PAY_PER_REQUEST"
        # Throttling and transient errors are retried with backoff by pynamodb itself.
        max_retry_attempts = 5
        base_backoff_ms = 25

    return Meta


def new_id() -> str:
    """An opaque, unguessable identifier."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


def transaction() -> TransactWrite:
    """A TransactWriteItems batch on this stage's DynamoDB endpoint."""
    settings = get_settings()
    return TransactWrite(
        connection=Connection(region=settings.aws_region, host=settings.aws_endpoint_url)
    )
