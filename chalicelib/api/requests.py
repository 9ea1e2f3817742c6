"""Reading request bodies and query strings into validated values."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TypeVar

from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib.api.schemas.common import parse_time
from chalicelib.db.pagination import DEFAULT_LIMIT, MAX_LIMIT
from chalicelib.errors import InvalidRequest

Body = TypeVar("Body", bound=BaseModel)


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


def validation_details(exc: ValidationError) -> dict[str, str]:
    """pydantic's errors as the contract's `details`: field path → problem."""
    details: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        # pydantic prefixes messages from our own validators with "Value error, ".
        message = error["msg"].removeprefix("Value error, ")
        details.setdefault(_location(error["loc"]), message)
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


def query_params(request: Request) -> dict[str, str]:
    return dict(request.query_params or {})


def page_params(request: Request) -> tuple[int, str | None]:
    """`?limit=` (1-200, default 50) and `?next_token=`."""
    params = query_params(request)
    raw_limit = params.get("limit")
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise InvalidRequest(details={"limit": f"Must be an integer from 1 to {MAX_LIMIT}."})
        limit = int(raw_limit)
    return limit, params.get("next_token") or None


def bool_param(request: Request, name: str) -> bool | None:
    raw = query_params(request).get(name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise InvalidRequest(details={name: "Must be true or false."})
    return raw == "true"


def choice_param(request: Request, name: str, choices: tuple[str, ...]) -> str | None:
    raw = query_params(request).get(name)
    if raw is not None and raw not in choices:
        raise InvalidRequest(details={name: f"Must be one of {', '.join(choices)}."})
    return raw


def time_param(request: Request, name: str) -> datetime | None:
    raw = query_params(request).get(name)
    if raw is None:
        return None
    try:
        return parse_time(raw)
    except ValueError as exc:
        raise InvalidRequest(details={name: str(exc)}) from None
