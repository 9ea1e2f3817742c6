"""`make run`: the AWS emulator, the setup step and the API, on loopback, until Ctrl-C.

Children are started by this process and stopped by it on SIGINT/SIGTERM; on Linux they
also get SIGTERM if this process dies without cleaning up, so nothing is left behind.
Data lives in the emulator's memory and is gone when the stack stops.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlparse

from chalicelib.auth.ticket_keys import local_key_set
from chalicelib.settings import LOCAL_ADMIN_EMAIL, LOCAL_ADMIN_PASSWORD
from devstack import partitions
from devstack.fake_providers import FakeProviders
from devstack.stripe_server import DEFAULT_PORT as DEFAULT_STRIPE_PORT
from devstack.stripe_server import point_webhook

PROJECT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 60
_PR_SET_PDEATHSIG = 1


class StackError(RuntimeError):
    pass


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _die_with_parent() -> None:
    """Runs in each child before exec: ask Linux to SIGTERM it when this launcher dies, and
    take the stop signals the launcher held back while spawning it."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def stack_environment(base: dict[str, str]) -> dict[str, str]:
    """The environment every process of the local stack runs with."""
    env = dict(base)
    port = env.setdefault("PORT", "8000")
    env.setdefault("AWS_ENDPOINT_URL", f"http://{HOST}:4566")
    env.setdefault("APP_URL", f"http://{HOST}:{port}")
    env.setdefault("ADMIN_EMAIL", LOCAL_ADMIN_EMAIL)
    env.setdefault("ADMIN_PASSWORD", LOCAL_ADMIN_PASSWORD)
    # One ticket-signing key for this run, shared by every process of the stack (a process
    # left to generate its own would sign tickets no other one could check).
    if not env.get("TICKET_KEYS"):
        env["TICKET_KEYS"] = local_key_set()
    # Likewise one token and webhook-signing key: webhook secrets shown by the API must be the
    # ones the stream poller signs with.
    if not env.get("JWT_SECRET"):
        env["JWT_SECRET"] = secrets.token_urlsafe(32)
    if not env.get("STRIPE_SECRET_KEY"):
        # No Stripe account given: the local Stripe (localstripe) takes the payments, its
        # webhooks signed with a secret made for this run.
        stripe = f"http://{HOST}:{env.setdefault('STRIPE_PORT', str(DEFAULT_STRIPE_PORT))}"
        env["STRIPE_SECRET_KEY"] = "sk_test_local"
        env["STRIPE_PUBLISHABLE_KEY"] = "pk_test_local"
        env["STRIPE_API_URL"] = stripe
        env["STRIPE_JS_URL"] = f"{stripe}/js.stripe.com/v3/"
        env.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_" + secrets.token_hex(24))
        env["LOCAL_STRIPE"] = "1"
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env["AWS_REGION"] = env["AWS_DEFAULT_REGION"]
    env["STAGE"] = "dev"
    # The emulator accepts any credentials; never send real ones, never look for a profile.
    env["AWS_ACCESS_KEY_ID"] = "local"
    env["AWS_SECRET_ACCESS_KEY"] = "local"
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    env["PYTHONUNBUFFERED"] = "1"
    # Stream calls go to the emulator's endpoint, not an account-based AWS host.
    env["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
    return env


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _wait_for(url: str, process: subprocess.Popen, deadline: float, want: int = 200) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"{' '.join(process.args[2:3])} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == want:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code == want:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise StackError(f"{url} did not answer within {STARTUP_TIMEOUT_S} s")


class LocalStack:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.api_port = int(env["PORT"])
        endpoint = urlparse(env["AWS_ENDPOINT_URL"])
        self.emulator_port = endpoint.port or 4566
        self.stripe_port = int(env["STRIPE_PORT"]) if env.get("LOCAL_STRIPE") else None
        self.children: list[subprocess.Popen] = []

    def _spawn(self, *args: str) -> subprocess.Popen:
        # A stop signal arriving between the fork and the append would leave a child that
        # stop() does not know of: it waits until the child is listed.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", *args],
                cwd=PROJECT_DIR,
                env=self.env,
                preexec_fn=_die_with_parent,
            )
            self.children.append(process)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        return process

    def start(self) -> None:
        ports = [("PORT", self.api_port), ("AWS_ENDPOINT_URL", self.emulator_port)]
        if self.stripe_port is not None:
            ports.append(("STRIPE_PORT", self.stripe_port))
        for name, port in ports:
            if not _port_free(port):
                raise StackError(f"port {port} is already in use; set {name} to use another")
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        emulator = self._spawn(
            "devstack.emulator", "--host", HOST, "--port", str(self.emulator_port)
        )
        _wait_for(f"http://{HOST}:{self.emulator_port}/moto-api/", emulator, deadline)
        if self.stripe_port is not None:
            stripe = self._spawn("devstack.stripe_server", "--port", str(self.stripe_port))
            _wait_for(f"{self.env['STRIPE_API_URL']}/js.stripe.com/v3/", stripe, deadline)
        subprocess.run(
            [sys.executable, "-m", "chalicelib.bootstrap"],
            cwd=PROJECT_DIR,
            env=self.env,
            check=True,
            timeout=STARTUP_TIMEOUT_S,
        )
        api = self._spawn("devstack.api_server", "--host", HOST, "--port", str(self.api_port))
        _wait_for(f"http://{HOST}:{self.api_port}/health", api, deadline)
        if self.stripe_port is not None:
            point_webhook(
                self.env["STRIPE_API_URL"],
                f"http://{HOST}:{self.api_port}/payments/stripe",
                self.env["STRIPE_WEBHOOK_SECRET"],
            )
        # The event stream's consumer (confirmation emails, notices), as Lambda would run it.
        self._spawn("devstack.stream_poller")

    def stop(self) -> None:
        # A second Ctrl-C or SIGTERM must not interrupt the cleanup it asked for.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # The emulator (started first) goes last: the others may be mid-call to it.
        for group in (self.children[1:], self.children[:1]):
            for process in group:
                if process.poll() is None:
                    process.terminate()
            for process in group:
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def wait(self) -> int:
        """Block until a child dies on its own (an error) or a signal stops the stack."""
        while True:
            for process in self.children:
                if process.poll() is not None:
                    print(f"{process.args[2]} stopped unexpectedly ({process.returncode})")
                    return 1
            time.sleep(0.5)


def _signing_kid(env: dict[str, str]) -> str:
    return json.loads(env["TICKET_KEYS"])["keys"][0]["kid"]


def _stripe_lines(env: dict[str, str]) -> str:
    if not env.get("LOCAL_STRIPE"):
        return "  card payments       Stripe, with the keys you gave (STRIPE_SECRET_KEY)\n"
    stripe = env["STRIPE_API_URL"]
    return f"""  card payments       the local Stripe (localstripe), {stripe}: open an
                      order's checkout_url and pay with 4242 4242 4242 4242 (any future
                      date, any CVC); 4000 0000 0000 0341 is declined, 4000 0025 0000 3155
                      asks for 3-D Secure. Its webhooks reach POST /payments/stripe, signed.
"""


def _limits_line(env: dict[str, str]) -> str:
    spec = env.get("DYNAMODB_LIMITS", "")
    if spec.strip().lower() in ("", "off"):
        return ""
    return f"""  DynamoDB limits     modelled per partition key ({spec}); counters at
                      {env["AWS_ENDPOINT_URL"]}/_devstack/partitions
"""


def banner(env: dict[str, str]) -> str:
    api = f"http://{HOST}:{env['PORT']}"
    return f"""
Events API is running (local stage; data lives in memory and is gone when you stop it).

  API                 {api}
  interactive docs    {api}/   (OpenAPI document: {api}/openapi.json)
  health              {api}/health
  AWS emulator (moto) {env["AWS_ENDPOINT_URL"]}
  emails sent         {env["AWS_ENDPOINT_URL"]}/_devstack/sent-emails  (also printed here)
  event stream        confirmations and webhooks go out within a second (webhook deliveries:
                      GET {api}/webhooks/<id>/deliveries; http://127.0.0.1 receivers allowed)
  order holds         a reserved order past its expires_at is expired within 5 s, its tickets
                      back on sale (deployed: a scheduled function, every minute)
  admin               {env["ADMIN_EMAIL"]} / {env["ADMIN_PASSWORD"]}
  ticket signing key  kid {_signing_kid(env)} (public keys: {api}/ticket-keys)
{_stripe_lines(env)}{_limits_line(env)}
Try:
  curl -s {api}/health
  curl -s -X POST {api}/login -H 'Content-Type: application/json' \\
    -d '{{"email": "{env["ADMIN_EMAIL"]}", "password": "{env["ADMIN_PASSWORD"]}"}}'

Stop with Ctrl-C.
"""


FAKE_SIGN_IN_NOTE = """Sign-in with Google and GitHub goes to local stand-ins (FAKE_SIGN_IN=1):
  curl -s http://127.0.0.1:{port}/github-device-auth-step-1     # note user_code
  open {url}/device, type the user_code and any email, approve; then
  curl -s -X POST http://127.0.0.1:{port}/github-device-auth-step-2 -d '{{"device_code": "..."}}' \\
    -H 'Content-Type: application/json'
"""


def _raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    env = stack_environment(dict(os.environ))
    try:
        partitions.parse(env.get("DYNAMODB_LIMITS"))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stack = LocalStack(env)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    with contextlib.ExitStack() as running:
        fake = None
        if env.get("FAKE_SIGN_IN") in ("1", "on", "true"):
            # Google and GitHub stand-ins on loopback, so the device flow works offline.
            fake = running.enter_context(FakeProviders())
            env.update(fake.env())
        return _run(stack, env, fake)


def _run(stack: LocalStack, env: dict[str, str], fake: FakeProviders | None) -> int:
    try:
        stack.start()
        print(banner(env), flush=True)
        if fake is not None:
            print(FAKE_SIGN_IN_NOTE.format(url=fake.url, port=env["PORT"]), flush=True)
        return stack.wait()
    except KeyboardInterrupt:
        print("\nstopping the local stack", flush=True)
        return 0
    except (StackError, subprocess.SubprocessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
