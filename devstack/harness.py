"""Start the local stack in the background on free ports, for tests, fuzzing and benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import requests

PROJECT_DIR = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_S = 60
# Settings that must come from the stack's own defaults, never from the caller's environment.
_NOT_INHERITED = (
    "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "AWS_ENDPOINT_URL", "TABLE_PREFIX", "APP_URL",
    "JWT_SECRET", "TICKET_KEYS", "ADMIN_EMAIL", "ADMIN_PASSWORD", "STAGE",
    # Always the local Stripe, never an account the caller's shell happens to name.
    "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_URL",
    "STRIPE_JS_URL", "STRIPE_PORT",
)  # fmt: skip


class StackFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    process: subprocess.Popen
    api_url: str
    emulator_url: str
    stripe_url: str
    log_path: Path
    _log_file: IO[str]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        finally:
            self._log_file.close()


def start_stack(
    log_path: Path,
    *,
    command: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
    exclude_env: tuple[str, ...] = (),
) -> Stack:
    """Start `python -m devstack` (or `command`) and wait until /health answers 200."""
    api_port, emulator_port, stripe_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED + exclude_env}
    env.update(
        PORT=str(api_port),
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{emulator_port}",
        STRIPE_PORT=str(stripe_port),
        **(extra_env or {}),
    )
    log_file = log_path.open("w")
    process = subprocess.Popen(
        command or [sys.executable, "-m", "devstack"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    stack = Stack(
        process=process,
        api_url=f"http://127.0.0.1:{api_port}",
        emulator_url=f"http://127.0.0.1:{emulator_port}",
        stripe_url=f"http://127.0.0.1:{stripe_port}",
        log_path=log_path,
        _log_file=log_file,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stack.stop()
            raise StackFailed(f"local stack exited with {process.returncode}:\n{stack.log()}")
        try:
            if requests.get(f"{stack.api_url}/health", timeout=2).status_code == 200:
                return stack
        except requests.RequestException:
            pass
        time.sleep(0.25)
    stack.stop()
    raise StackFailed(
        f"local stack did not answer /health in {STARTUP_TIMEOUT_S} s:\n{stack.log()}"
    )


@contextmanager
def running_stack(log_path: Path, **kwargs: object) -> Iterator[Stack]:
    stack = start_stack(log_path, **kwargs)  # type: ignore[arg-type]
    try:
        yield stack
    finally:
        stack.stop()
