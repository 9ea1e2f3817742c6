"""localstripe, the local Stripe, as `make run` and the tests run it: `python -m
devstack.stripe_server --port 8420`.

localstripe (PyPI) is a stateful fake of Stripe's API with a fake Stripe.js at
/js.stripe.com/v3/ and signed webhooks. Two of its habits are changed here, neither of them
Stripe's behaviour: it pickles its whole store to one shared /tmp file on every write (slower
with every object, and parallel instances overwrite each other), so the store stays in memory
like the AWS emulator's; and it listens on every IPv6 address, so it is bound to loopback.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

DEFAULT_PORT = 8420
HOST = "127.0.0.1"
# The Stripe events the API's receiver acts on (localstripe sends only those it knows).
WEBHOOK_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
)
WEBHOOK_ID = "events-api"


def serve(port: int) -> None:
    from aiohttp import web
    from localstripe import resources, server

    resources.Store.dump_to_disk = lambda self: None  # memory only (see the module docstring)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    web.run_app(server.app, host=HOST, port=port, print=None, access_log=None)


def wait_ready(url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/js.stripe.com/v3/", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"localstripe at {url} did not start within {timeout_s} s")


def point_webhook(url: str, receiver: str, secret: str) -> None:
    """Send the API's Stripe events to `receiver`, signed with `secret`."""
    response = requests.post(
        f"{url}/_config/webhooks/{WEBHOOK_ID}",
        json={"url": receiver, "secret": secret, "events": list(WEBHOOK_EVENTS)},
        timeout=5,
    )
    response.raise_for_status()


@contextmanager
def running(port: int) -> Iterator[str]:
    """localstripe on `port` in its own process for the block's length; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.stripe_server", "--port", str(port)],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://{HOST}:{port}"
    try:
        wait_ready(url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve(parser.parse_args().port)


if __name__ == "__main__":
    main()
