"""JSON responses, and the one mapping of errors to HTTP responses."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.errors import AppError

JSON = {"Content-Type": "application/json"}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=body, status_code=status, headers={**JSON, **(headers or {})})


def no_content() -> Response:
    return Response(body="", status_code=204)


def error_response(error: AppError) -> Response:
    return json_response(error.body(), status=error.status)
