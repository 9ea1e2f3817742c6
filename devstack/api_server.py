"""The API on Chalice's own local server, as `chalice local` runs it, with the contract gateway.

`chalice local` serves each connection on its own thread of one process; `LocalChalice`
keeps `current_request` per thread, and anything else the app keeps at module level must be
thread-safe (see DESIGN.md). Auto-reload is off so the process tree stays one process.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import signal
import threading

from chalice import local
from chalice.cli.factory import CLIFactory
from chalice.deploy.validate import validate_routes

from devstack.gateway import ContractRequestHandler

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LISTEN_BACKLOG = 128


def serve(host: str, port: int, stage: str) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # Their start-up chatter ("Found credentials in environment variables", pynamodb's missing
    # optional settings file) says nothing about the local stack; warnings still show.
    for noisy in ("botocore", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    factory = CLIFactory(project_dir=PROJECT_DIR)
    config = factory.create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app
    validate_routes(app.routes)
    # http.server listens with a backlog of 5: parallel clients beyond that got their
    # connections reset before a thread could take them (seen with 16 parallel logins).
    local.ThreadedHTTPServer.request_queue_size = LISTEN_BACKLOG
    server = local.create_local_server(app, config, host, port)
    server.server.RequestHandlerClass = functools.partial(
        ContractRequestHandler, app_object=app, config=config
    )
    # serve_forever returns once shutdown() is called from another thread: a clean stop,
    # where raising SystemExit inside it could print a traceback from wherever it landed.
    stop = threading.Thread(target=server.server.shutdown, daemon=True)

    def on_sigterm(*_: object) -> None:
        if stop.ident is None:  # a second SIGTERM finds the stop under way
            stop.start()

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the API with chalice's local server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.stage)


if __name__ == "__main__":
    main()
