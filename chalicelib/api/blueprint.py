"""The Blueprint every route module uses: domain errors become JSON error responses here."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice import Blueprint

from chalicelib.api.responses import error_response
from chalicelib.errors import AppError


def render_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an AppError raised by a view (or a service it calls) into its JSON response."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except AppError as error:
            return error_response(error)

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
