"""moto in server mode, handling one request at a time.

moto is not safe under concurrent requests (its FAQ; moto issue #7166): its threaded server
holds no lock around DynamoDB writes, and a cancelled TransactWriteItems writes a stale copy
of the table back. Measured here: 8-16 threads booking against a counter capped at 100
through conditional transactions got 101-104 bookings accepted. One lock around moto's WSGI
app made it exact at about the same speed, so connections are still accepted on threads but
requests reach moto strictly one after another.

Two measured costs of moto are taken out: transactions run through devstack/transactions.py,
which keeps only the items a transaction replaces instead of deep-copying every table it
touches, and data-plane answers skip moto's model-driven serializer (devstack/responses.py);
the data-plane calls an order makes skip moto's web stack as well (devstack/fast_path.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.ses.models import ses_backends
from werkzeug.serving import make_server

from devstack import fast_path, mailbox, partitions, responses, transactions

SENT_EMAILS_PATH = "/_devstack/sent-emails"
# The partition model's counters (DELETE: zero them; PUT a DYNAMODB_LIMITS spec: a new model).
PARTITIONS_PATH = "/_devstack/partitions"

StartResponse = Callable[..., Any]


def sent_emails(region: str) -> list[dict[str, Any]]:
    """Every email the emulated SES accepted, oldest first."""
    backend = ses_backends[DEFAULT_ACCOUNT_ID][region]
    return [
        mailbox.describe(message)
        for message in backend.sent_messages
        if hasattr(message, "destinations")
    ]


class OneRequestAtATime:
    """WSGI wrapper that serialises every request into moto, body included."""

    def __init__(
        self, app: Callable[[dict, StartResponse], Iterable[bytes]], region: str, *, fast: bool
    ) -> None:
        self._app = app
        self._region = region
        self._lock = threading.Lock()
        self._fast = fast

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == SENT_EMAILS_PATH:
            body = json.dumps({"emails": sent_emails(self._region)}).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if environ.get("PATH_INFO") == PARTITIONS_PATH:
            return self._partitions(environ, start_response)
        operation = fast_path.operation_of(environ) if self._fast else None
        with self._lock:
            if operation is not None:
                return fast_path.serve(environ, start_response, operation, self._region)
            result = self._app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

    def _partitions(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        with self._lock:
            if method == "PUT":  # e.g. a bench's seeded runs, each with its own faults
                length = int(environ.get("CONTENT_LENGTH") or 0)
                spec = environ["wsgi.input"].read(length).decode()
                try:
                    partitions.install(partitions.parse(spec))
                except ValueError as exc:
                    start_response("400 Bad Request", [("Content-Type", "text/plain")])
                    return [str(exc).encode()]
            model = partitions.current()
            if model is not None and method == "DELETE":
                model.stats.clear()
                model.by_partition.clear()
                model.by_table.clear()
            figures = {"limits": model.limits.__dict__, "stats": dict(model.stats),
                       "hottest": model.hottest(100),
                       "tables": model.tables()} if model else {}  # fmt: skip
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"model": figures or None}).encode()]


class Dispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend serves each host: moto works it out again
    on every request by listing its package directory (a tenth of a booking's emulator time)."""

    def __init__(self, create_app: Callable[[str], Any]) -> None:
        super().__init__(create_app)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        if host not in self._backends:
            self._backends[host] = super().get_backend_for_host(host)
        return self._backends[host]


class RequestHandler(MotoRequestHandler):
    # Headers and body go out as two writes: with Nagle's algorithm on, a small body can wait
    # for the client's delayed ACK of the headers (~40 ms), as it did on the API server.
    disable_nagle_algorithm = True


def serve(host: str, port: int, region: str, *, fast: bool = True) -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    transactions.install()  # no whole-table copies: see devstack/transactions.py
    responses.install()  # answers as plain JSON: see devstack/responses.py
    try:  # DynamoDB's partition limits, if asked for: see devstack/partitions.py
        partitions.install(partitions.parse(os.environ.get("DYNAMODB_LIMITS")))
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    app = OneRequestAtATime(Dispatcher(create_backend_app), region, fast=fast)
    server = make_server(host, port, app, threaded=True, request_handler=RequestHandler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    parser.add_argument(
        "--no-fast-path",
        action="store_true",
        help="serve DynamoDB's data plane through moto's web stack too",
    )
    args = parser.parse_args(argv)
    # DEVSTACK_FAST_PATH=off: the same from the local stack's environment (for comparisons).
    fast = not args.no_fast_path and os.environ.get("DEVSTACK_FAST_PATH", "on") != "off"
    serve(args.host, args.port, args.region, fast=fast)


if __name__ == "__main__":
    main()
