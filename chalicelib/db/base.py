"""What every table model shares: where the table lives and what it is called."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pynamodb.connection import Connection, TableConnection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.db import wire
from chalicelib.settings import get_settings

M = TypeVar("M", bound=Model)

# Throttling and transient errors are retried by botocore's standard retry mode, with backoff.
MAX_RETRY_ATTEMPTS = 5


def table_meta(base_name: str) -> type:
    """A pynamodb `Meta` for the table `base_name` in this stage's account and endpoint."""
    settings = get_settings()

    class Meta:
        table_name = settings.table_name(base_name)
        region = settings.aws_region
        host = settings.aws_endpoint_url
        billing_mode = "PAY_PER_REQUEST"
        max_retry_attempts = MAX_RETRY_ATTEMPTS

    return Meta


def new_id() -> str:
    """An opaque, unguessable identifier."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


_connection: Connection | None = None
_connection_lock = threading.Lock()


def _shared_connection() -> Connection:
    """One DynamoDB connection per process, shared by every table and transaction.

    pynamodb otherwise builds a botocore client per model class, about 100 ms each: close to
    a second of Lambda cold start for our tables. Its answers are read by chalicelib.db.wire.
    """
    global _connection
    with _connection_lock:
        if _connection is None:
            settings = get_settings()
            _connection = Connection(
                region=settings.aws_region,
                host=settings.aws_endpoint_url,
                max_retry_attempts=MAX_RETRY_ATTEMPTS,
                # `chalice local` serves requests on many threads of one process.
                max_pool_connections=32,
            )
            _connection.session.register_component("response_parser_factory", wire.ParserFactory())
            _connection.client  # noqa: B018 - build the client now, under the lock
        return _connection


class TableModel(Model):
    """Base of every table model: all of them talk through the shared connection."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table_connection = super()._get_connection()
        shared = _shared_connection()
        if table_connection.connection is not shared:
            # The table's own Connection has not built a client yet (that happens lazily);
            # hand its key schema to the shared one and use that instead.
            shared.add_meta_table(table_connection.get_meta_table())
            table_connection.connection = shared
        return table_connection


def transaction() -> TransactWrite:
    """A TransactWriteItems batch on this stage's DynamoDB endpoint."""
    return TransactWrite(connection=_shared_connection())


def get_or_none(
    model: type[M], hash_key: str, range_key: str | None = None, **kwargs: Any
) -> M | None:
    """The item with this key, or None."""
    try:
        return model.get(hash_key, range_key, **kwargs)
    except model.DoesNotExist:
        return None


def has_any(results: Iterable[Any]) -> bool:
    """True when a query (run with limit=1) returns at least one item."""
    return next(iter(results), None) is not None
