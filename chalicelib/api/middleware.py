"""What happens around every request: request id, body size cap, error shape, access log."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping

from chalice import Response
from chalice.app import Request

from chalicelib.api.responses import error_response
from chalicelib.errors import BY_STATUS, AppError, PayloadTooLarge

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# Per request, not per process: `chalice local` serves requests on threads of one process,
# and a context variable is what keeps one request's id out of another's.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def request_id_from(headers: Mapping[str, str] | None) -> str:
    """The caller's X-Request-Id when it is a safe token, else a new one."""
    supplied = (headers or {}).get("x-request-id", "") or ""
    return supplied if _SAFE_REQUEST_ID.match(supplied) else uuid.uuid4().hex


def _incoming_request_id(request: Request | None) -> str:
    return request_id_from(request.headers if request is not None else None)


def _in_contract_shape(response: Response) -> Response:
    """Rewrite errors Chalice builds itself ({"Code", "Message"}: 405, 415, 500) to ours."""
    body = response.body
    if not (isinstance(body, dict) and set(body) == {"Code", "Message"}):
        return response
    error_class = BY_STATUS.get(response.status_code, AppError)
    # Chalice's 4xx messages help the caller ("Unsupported media type: text/plain");
    # its 5xx ones carry nothing useful and must never leak details.
    message = body["Message"] if response.status_code < 500 else None
    error = error_class(message)
    rewritten = error_response(error)
    rewritten.status_code = response.status_code
    for name, value in response.headers.items():
        rewritten.headers.setdefault(name, value)
    return rewritten


def http_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    token = request_id.set(_incoming_request_id(event))
    started = time.perf_counter()
    try:
        body = event.raw_body if event is not None else b""
        if len(body or b"") > MAX_BODY_BYTES:
            response = error_response(
                PayloadTooLarge(f"Request body must be at most {MAX_BODY_BYTES} bytes.")
            )
        else:
            response = _in_contract_shape(get_response(event))
        response.headers["X-Request-Id"] = request_id.get()
        log.info(
            json.dumps(
                {
                    "request_id": request_id.get(),
                    "method": getattr(event, "method", "-"),
                    "path": getattr(event, "path", "-"),
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                }
            )
        )
        return response
    finally:
        request_id.reset(token)
