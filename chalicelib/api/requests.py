"""Reading request bodies and query strings into validated values."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs

from chalice.app import Request

from chalicelib.api.times import parse_time
from chalicelib.db.pagination import DEFAULT_LIMIT, MAX_LIMIT
from chalicelib.errors import InvalidRequest

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

Body = TypeVar("Body", bound="BaseModel")


# Every path parameter (ids, emailed link tokens) is printable ASCII without spaces, at most
# this long: anything else is refused here, once, before it reaches a service or DynamoDB.
MAX_PATH_PARAM = 200
_PATH_PARAM = re.compile(rf"[!-~]{{1,{MAX_PATH_PARAM}}}")


def check_path_params(params: dict[str, Any]) -> None:
    bad = {
        name: f"Must be 1 to {MAX_PATH_PARAM} printable ASCII characters."
        for name, value in params.items()
        if not (isinstance(value, str) and _PATH_PARAM.fullmatch(value))
    }
    if bad:
        raise InvalidRequest(details=bad)


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


# No body of ours nests deeper than 3; 32 leaves room and keeps the parser's recursion far
# from Python's limit (a 2 KB body of "[" would otherwise end in a RecursionError).
MAX_JSON_DEPTH = 32
# What nesting depends on: escapes (skipped whole), quotes, brackets. One linear pass; a
# regex that matches whole strings backtracks on unterminated ones (seconds for 40 KB).
_STRUCTURE = re.compile(r'\\.|["\[\]{}]', re.DOTALL)
FORM = "application/x-www-form-urlencoded"


def json_nests_deeper_than(text: str, limit: int) -> bool:
    """Whether arrays and objects in `text` nest deeper than `limit` (brackets inside strings
    do not count). Stops at the first level past the limit."""
    depth, in_string = 0, False
    for token in _STRUCTURE.finditer(text):
        char = token.group()
        if char == '"':
            in_string = not in_string
        elif in_string or len(char) == 2:  # inside a string, or an escape
            continue
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _json_object(raw: bytes | None) -> dict[str, Any]:
    try:
        text = raw.decode() if raw else ""
        if json_nests_deeper_than(text, MAX_JSON_DEPTH):
            raise InvalidRequest(
                code="malformed_json",
                details={"body": f"JSON may nest at most {MAX_JSON_DEPTH} levels deep."},
            )
        data = json.loads(text) if text else None
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest(
            code="malformed_json", details={"body": "Request body is not valid JSON."}
        ) from None
    if not isinstance(data, dict):
        raise InvalidRequest(
            code="malformed_json", details={"body": "Request body must be a JSON object."}
        )
    return data


def _form_fields(raw: bytes | None) -> dict[str, Any]:
    """An HTML form's fields; a repeated field is ambiguous and refused."""
    try:
        fields = parse_qs((raw or b"").decode(), keep_blank_values=True, strict_parsing=False)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest(details={"body": "Request body is not a valid form."}) from None
    repeated = [name for name, values in fields.items() if len(values) > 1]
    if repeated:
        raise InvalidRequest(details={name: "Give this field once." for name in repeated})
    return {name: values[0] for name, values in fields.items()}


def is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.split(";")[0].strip().lower() == FORM


def parse_body(request: Request, model: type[Body]) -> Body:
    """The request's JSON object (or, on routes that take one, HTML form) validated by `model`;
    anything else is a 400 with details."""
    from pydantic import ValidationError  # loaded with `model` already: no cold-start cost

    data = _form_fields(request.raw_body) if is_form(request) else _json_object(request.raw_body)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(details=validation_details(exc)) from None


def source_ip(request: Request) -> str:
    """The caller's address as API Gateway saw the connection, never a header the caller wrote
    (X-Forwarded-For is theirs to forge)."""
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def query_params(request: Request) -> dict[str, str]:
    return dict(request.query_params or {})


def page_params(request: Request) -> tuple[int, str | None]:
    """`?limit=` (1-200, default 50) and `?next_token=`."""
    params = query_params(request)
    raw_limit = params.get("limit")
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        # Only ASCII digits: str.isdigit() also accepts "²", which int() refuses.
        if not re.fullmatch(r"[0-9]{1,4}", raw_limit) or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise InvalidRequest(details={"limit": f"Must be an integer from 1 to {MAX_LIMIT}."})
        limit = int(raw_limit)
    return limit, params.get("next_token") or None


def id_param(request: Request, name: str) -> str | None:
    """An id in the query string, checked like ids in the path; empty means not given."""
    raw = query_params(request).get(name)
    if not raw:
        return None
    check_path_params({name: raw})
    return raw


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
