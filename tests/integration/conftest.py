"""The real local stack (`python -m devstack`, what `make run` starts) on free ports."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devstack.fake_providers import FakeProviders
from devstack.harness import StackFailed, start_stack
from tests.conftest import TEST_ENV


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start(command, log_path, extra_env=None):
    try:
        return start_stack(
            log_path, command=command, extra_env=extra_env, exclude_env=tuple(TEST_ENV)
        )
    except StackFailed as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def fake_providers():
    with FakeProviders() as fake:
        yield fake


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory, fake_providers):
    """The stack `make run` starts, with Google and GitHub pointed at fakes on loopback.

    RATE_LIMITS=off: the races and load tests here fire hundreds of requests from one address,
    which the abuse limits exist to stop. `limited_stack` runs with the limits on. Webhook
    retries come after 1 s instead of 5 s, 5 min, ... so a test can watch them.
    """
    env = {**fake_providers.env(), "RATE_LIMITS": "off", "WEBHOOK_RETRY_AFTER": "1,1,1",
           # Tests sign Stripe events themselves, with the secret the stack's receiver checks.
           "STRIPE_WEBHOOK_SECRET": TEST_ENV["STRIPE_WEBHOOK_SECRET"]}  # fmt: skip
    stack = start(None, tmp_path_factory.mktemp("stack") / "stack.log", env)
    yield stack
    stack.stop()


# Small limits so that the limited stack's tests reach them in a few requests.
SMALL_LIMITS = {
    "RATE_LIMIT_AUTH_IP": "6/60",
    "RATE_LIMIT_LINK_EMAIL": "2/3600",
    "RATE_LIMIT_RECIPIENT": "3/3600",
    "RATE_LIMIT_BOOKING_IP": "100/3600",
}


@pytest.fixture(scope="session")
def limited_stack(tmp_path_factory, fake_providers):
    """The local stack with its abuse limits on, as deployed (a few set small)."""
    env = {**fake_providers.env(), **SMALL_LIMITS}
    stack = start(None, tmp_path_factory.mktemp("limited") / "stack.log", env)
    yield stack
    stack.stop()


class Receiver:
    """An HTTP endpoint on loopback answering the given statuses in turn (the last one
    repeats), keeping what it received."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append((dict(self.headers), body))
                status = (
                    receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} deliveries"
            time.sleep(0.05)

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receivers():
    made: list[Receiver] = []

    def make(*statuses: int) -> Receiver:
        made.append(Receiver(*statuses))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()
