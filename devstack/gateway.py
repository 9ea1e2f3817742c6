"""API Gateway's own answers (no such route, authorizer said no) in the contract's error shape.

Deployed, the template's gateway responses give these the JSON error shape; `chalice local`
and `chalice.test.Client` answer them with API Gateway's defaults instead (an unknown route
is a 403 "Missing Authentication Token"). This gateway applies the same mapping locally.
"""

from __future__ import annotations

import contextlib
import json
from http.server import BaseHTTPRequestHandler
from typing import Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    LocalGateway,
    LocalGatewayException,
    RouteMatcher,
)

from chalicelib.api.middleware import request_id_from
from chalicelib.errors import BY_STATUS, AppError, InvalidRequest, MethodNotAllowed, NotFound


class GatewayAnswer(LocalGatewayException):
    """A gateway-level error response with any status, carrying the request's id as the app's
    own answers do."""

    def __init__(self, error: AppError, headers: dict[str, str], request_id: str) -> None:
        answer_headers = {**headers, **error.headers(), "X-Request-Id": request_id}
        answer_headers["Content-Type"] = "application/json"
        super().__init__(answer_headers, json.dumps(error.body()).encode())
        self.CODE = error.status


class ContractGateway(LocalGateway):
    def __init__(self, app_object: Chalice, config: Config) -> None:
        super().__init__(app_object, config)
        self._routes = RouteMatcher(list(app_object.routes))

    def handle_request(self, method: str, path: str, headers: Any, body: Any) -> Any:
        request_id = request_id_from({k.lower(): v for k, v in dict(headers or {}).items()})
        try:
            self._routes.match_route(path)
        except ValueError:
            raise GatewayAnswer(NotFound(), {}, request_id) from None
        try:
            return super().handle_request(method, path, headers, body)
        except GatewayAnswer:
            raise
        except LocalGatewayException as exc:
            error_class = BY_STATUS.get(exc.CODE, AppError)
            raise GatewayAnswer(error_class(), dict(exc.headers or {}), request_id) from None


class ContractRequestHandler(ChaliceRequestHandler):
    """chalice local's request handler, talking to the ContractGateway."""

    # http.server sends the headers and then the body: with Nagle's algorithm on, a small body
    # waits for the client's delayed ACK of the headers, ~40 ms on every small answer.
    disable_nagle_algorithm = True

    def __init__(self, request: Any, client_address: Any, server: Any, **kwargs: Any) -> None:
        self.local_gateway = ContractGateway(kwargs["app_object"], kwargs["config"])
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def handle(self) -> None:
        # A client that left before its answer: nothing to tell it, nothing to log.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the app's middleware logs every request with its request id."""

    def __getattr__(self, name: str) -> Any:
        # http.server answers methods it has no do_<METHOD> for (TRACE, CONNECT, ...) with a
        # 501 HTML page; the API answers them like any other method it does not route.
        if name.startswith("do_"):
            return self._method_not_allowed
        raise AttributeError(name)

    def _method_not_allowed(self) -> None:
        self._send_error_json(MethodNotAllowed())

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (headers too large, a malformed request line) in the
        error shape instead of its HTML page."""
        self.close_connection = True
        self._send_error_json(BY_STATUS.get(code, InvalidRequest)(), status=code)

    def _send_error_json(self, error: AppError, status: int | None = None) -> None:
        body = json.dumps(error.body()).encode()
        headers = getattr(self, "headers", None)
        self.send_response(status or error.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-Id", request_id_from(headers))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(body)
