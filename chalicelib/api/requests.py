"""Reading request bodies and query strings into validated values."""

from __future__ import annotations

import json
from typing import TypeVar

from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib.errors import InvalidRequest

Body = TypeVar("Body", bound=BaseModel)


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def validation_details(exc: ValidationError) -> dict[str, str]:
    """pydantic's errors as the contract's `details`: field path → problem."""
    details: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        details.setdefault(_location(error["loc"]), error["msg"])
    return details


def parse_body(request: Request, model: type[Body]) -> Body:
    """The request's JSON object validated by `model`; anything else is a 400 with details."""
    raw = request.raw_body
    try:
        data = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest(
            code="malformed_json", details={"body": "Request body is not valid JSON."}
        ) from None
    if not isinstance(data, dict):
        raise InvalidRequest(
            code="malformed_json", details={"body": "Request body must be a JSON object."}
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(details=validation_details(exc)) from None
