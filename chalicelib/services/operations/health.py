"""Readiness: the app is healthy when every table it uses answers."""

from __future__ import annotations

import logging

from chalicelib.db.tables import unavailable_tables
from chalicelib.errors import ServiceUnavailable

log = logging.getLogger(__name__)


def ensure_tables_reachable() -> None:
    down = unavailable_tables()
    if down:
        # Table names stay in the log; callers only learn that storage is unavailable.
        log.error("health check failed, tables not available: %s", ", ".join(down))
        raise ServiceUnavailable("Storage is not reachable.", code="storage_unavailable")
