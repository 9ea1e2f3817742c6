"""The Blueprint every route module uses: routes carry their documentation, and domain errors
become JSON error responses here."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice import Blueprint
from pynamodb.exceptions import PynamoDBException

from chalicelib.api import schemas
from chalicelib.api.pages import HTML, LINK_NOT_VALID, html_page
from chalicelib.api.requests import check_path_params
from chalicelib.api.responses import error_response
from chalicelib.db import transactions
from chalicelib.errors import AppError, InvalidRequest, ServiceUnavailable

log = logging.getLogger(__name__)

BEARER = "bearer"
OPTIONAL_BEARER = "optional"
ANYONE = "anyone"


@dataclass(frozen=True)
class Param:
    """A query or header parameter, with its JSON schema."""

    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


@dataclass(frozen=True)
class RouteDoc:
    summary: str
    tag: str
    auth: str
    # status -> a response model ("module.Class", see chalicelib.api.schemas), a media type
    # for non-JSON bodies ("text/html"), or None for no body
    responses: dict[int, str | None]
    body: str | None = None  # the request body's model, "module.Class"
    query: tuple[Param, ...] = ()
    headers: tuple[Param, ...] = ()
    description: str = ""
    # Under the abuse limits: may answer 429 `rate_limited` with Retry-After.
    limited: bool = False
    content_types: tuple[str, ...] = ("application/json",)


# (METHOD, path) -> its documentation; filled as route modules are imported.
ROUTE_DOCS: dict[tuple[str, str], RouteDoc] = {}


def render_errors(view: Callable[..., Any], *, page: bool = False) -> Callable[..., Any]:
    """Turn an AppError raised by a view (or a service it calls) into its JSON response.

    `page`: the route answers people in a browser (an emailed link), so a malformed path is
    an HTML page too.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            check_path_params(kwargs)
        except InvalidRequest as error:
            if page:
                return html_page(title="Link not valid", message=LINK_NOT_VALID, status=400)
            return error_response(error)
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


def is_media_type(spec: str) -> bool:
    return "/" in spec


def _check_refs(path: str, body: str | None, responses: dict[int, str | None]) -> None:
    """Fail at import on a model reference that names no schema module (the class itself is
    looked up when first used; the OpenAPI test resolves every one)."""
    specs = [body, *responses.values()]
    bad = [s for s in specs if s and not is_media_type(s) and not schemas.is_model_ref(s)]
    if bad or (body is not None and is_media_type(body)):
        raise ValueError(f"{path}: not a schema reference: {bad or body}")


class ApiBlueprint(Blueprint):
    """A Chalice Blueprint whose routes are documented and answer errors in the contract's shape.

    Chalice turns any exception a view raises into a generic 500 before middleware sees it,
    so the error mapping wraps the views themselves; doing it here keeps views free of
    try/except.
    """

    def route(  # type: ignore[override]
        self,
        path: str,
        *,
        summary: str,
        tag: str,
        responses: dict[int, str | None],
        body: str | None = None,
        query: tuple[Param, ...] = (),
        headers: tuple[Param, ...] = (),
        optional_auth: bool = False,
        description: str = "",
        limited: bool = False,
        **kwargs: Any,
    ) -> Callable[..., Any]:
        _check_refs(path, body, responses)
        register = super().route(path, **kwargs)
        auth = BEARER if kwargs.get("authorizer") else OPTIONAL_BEARER if optional_auth else ANYONE
        doc = RouteDoc(
            summary=summary,
            tag=tag,
            auth=auth,
            responses=responses,
            body=body,
            query=query,
            headers=headers,
            description=description,
            limited=limited,
            content_types=tuple(kwargs.get("content_types", ("application/json",))),
        )
        for method in kwargs.get("methods", ["GET"]):
            ROUTE_DOCS[(method.upper(), path)] = doc

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            register(render_errors(view, page=responses.get(400) == HTML))
            return view

        return decorator


PAGE_PARAMS = (
    Param(
        "limit",
        "Items per page, 1-200 (default 50).",
        {"type": "integer", "minimum": 1, "maximum": 200},
    ),
    Param("next_token", "The `next_token` of the previous page."),
)
