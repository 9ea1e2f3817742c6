"""JSON responses, and the one mapping of errors to HTTP responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib.db.pagination import Page
from chalicelib.errors import AppError

if TYPE_CHECKING:
    from chalicelib.api.schemas.responses import Out

JSON = {"Content-Type": "application/json"}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=body, status_code=status, headers={**JSON, **(headers or {})})


def page_response(
    model: type[Out], key: str, page: Page[Any], to_out: Callable[[Any], Out]
) -> Response:
    """A list page: `{key: [...], "next_token": ...}`, shaped by its response model."""
    body = model(**{key: [to_out(item) for item in page.items], "next_token": page.next_token})
    return json_response(body.as_json())


def model_response(body: Out, status: int = 200) -> Response:
    return json_response(body.as_json(), status=status)


def no_content() -> Response:
    return Response(body="", status_code=204)


def error_response(error: AppError) -> Response:
    return json_response(error.body(), status=error.status, headers=error.headers())
