"""The real local stack (`python -m devstack`, what `make run` starts) on free ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
import requests

from tests.conftest import TEST_ENV
from tests.integration.fake_github import FakeGitHub

PROJECT_DIR = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stack_env(
    api_port: int, emulator_port: int, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """A clean environment: none of the in-process test settings leak into the stack."""
    env = {k: v for k, v in os.environ.items() if k not in TEST_ENV}
    for name in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    env["PORT"] = str(api_port)
    env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{emulator_port}"
    env.update(extra or {})
    return env


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


@dataclass
class Stack:
    process: subprocess.Popen
    api_url: str
    emulator_url: str
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
    command: list[str], log_path: Path, extra_env: dict[str, str] | None = None
) -> Stack:
    api_port, emulator_port = free_port(), free_port()
    log_file = log_path.open("w")
    process = subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env=stack_env(api_port, emulator_port, extra_env),
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    stack = Stack(
        process=process,
        api_url=f"http://127.0.0.1:{api_port}",
        emulator_url=f"http://127.0.0.1:{emulator_port}",
        log_path=log_path,
        _log_file=log_file,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"local stack exited with {process.returncode}:\n{stack.log()}")
        try:
            if requests.get(f"{stack.api_url}/health", timeout=2).status_code == 200:
                return stack
        except requests.RequestException:
            pass
        time.sleep(0.25)
    stack.stop()
    pytest.fail(f"local stack did not answer /health within {STARTUP_TIMEOUT_S} s:\n{stack.log()}")


@pytest.fixture(scope="session")
def fake_github():
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory, fake_github):
    """The stack `make run` starts, with GitHub sign-in pointed at a fake on loopback."""
    stack = start_stack(
        [sys.executable, "-m", "devstack"],
        tmp_path_factory.mktemp("stack") / "stack.log",
        extra_env=fake_github.env(),
    )
    yield stack
    stack.stop()
