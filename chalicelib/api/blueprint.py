"""The Blueprint every route module uses: domain errors become JSON error responses here."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from chalice import Blueprint
from pynamodb.exceptions import PynamoDBException

from chalicelib.api.responses import error_response
from chalicelib.db import transactions
from chalicelib.errors import AppError, ServiceUnavailable

log = logging.getLogger(__name__)


def render_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an AppError raised by a view (or a service it calls) into its JSON response."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except AppError as error:
            return error_response(error)
        except PynamoDBException as exc:
            if not transactions.is_transient(exc):
                raise
            # Throttled or contended even after retries: nothing was written, try later.
            log.warning("storage busy: %s", exc)
            return error_response(
                ServiceUnavailable("The service is busy; try again.", code="storage_busy")
            )

    return wrapper


class ApiBlueprint(Blueprint):
    """A Chalice Blueprint whose views answer domain errors in the contract's JSON shape.

    Chalice turns any exception a view raises into a generic 500 before middleware sees it,
    so the mapping has to wrap the views themselves; doing it here keeps views free of
    try/except.
    """

    def route(self, path: str, **kwargs: Any) -> Callable[..., Any]:
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            register(render_errors(view))
            return view

        return decorator
