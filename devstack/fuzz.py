"""`make fuzz`: schemathesis against the running local stack, as each kind of caller.

Checks: no server errors, documented status codes, documented content types, and response
bodies that match the OpenAPI document. The gate fails on any failure, or if fewer than
MIN_TEST_CASES requests were generated in all.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from chalicelib.settings import LOCAL_ADMIN_EMAIL, LOCAL_ADMIN_PASSWORD
from devstack.fake_providers import FakeProviders
from devstack.harness import PROJECT_DIR, Stack, running_stack

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "5"))
# A fixed seed keeps the gate reproducible run to run; FUZZ_SEED=random explores afresh.
SEED = os.environ.get("FUZZ_SEED", "20261124")
MIN_TEST_CASES = 1000
OUT = PROJECT_DIR / "build" / "fuzz"


def _login(stack: Stack, email: str, password: str) -> str:
    response = requests.post(
        f"{stack.api_url}/login", json={"email": email, "password": password}, timeout=10
    )
    response.raise_for_status()
    return response.json()["auth_token"]


def identities(stack: Stack) -> dict[str, str | None]:
    """Tokens for each kind of caller, with an event and an allocation for them to act on."""
    admin = _login(stack, LOCAL_ADMIN_EMAIL, LOCAL_ADMIN_PASSWORD)
    tokens: dict[str, str | None] = {"anonymous": None, "admin": admin}
    ids = {}
    for role in ("organizer", "reseller"):
        email = f"fuzz-{role}@example.com"
        created = requests.post(
            f"{stack.api_url}/users",
            json={"email": email, "password": "fuzz-password", "name": role, "role": role},
            headers={"Authorization": f"Bearer {admin}"},
            timeout=10,
        )
        created.raise_for_status()
        ids[role] = created.json()["user"]["id"]
        tokens[role] = _login(stack, email, "fuzz-password")
    when = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    event = requests.post(
        f"{stack.api_url}/events",
        json={"title": "Fuzz", "time": when, "price": "10", "currency_code": "EUR",
              "number_of_tickets": 100},
        headers={"Authorization": f"Bearer {tokens['organizer']}"},
        timeout=10,
    )  # fmt: skip
    event.raise_for_status()
    event_id = event.json()["event"]["id"]
    requests.put(
        f"{stack.api_url}/events/{event_id}/allocations/{ids['reseller']}",
        json={"number_of_tickets": 10},
        headers={"Authorization": f"Bearer {tokens['organizer']}"},
        timeout=10,
    ).raise_for_status()
    tokens["scanner"] = _scanner(stack, event_id, tokens["organizer"])
    tokens["buyer"] = _buyer(stack, event_id)
    tokens["order"] = _order(stack, tokens["organizer"])
    return tokens


def _order(stack: Stack, organizer: str | None) -> str:
    """The order token a buyer gets with an order of an event paid by card: a reserved order,
    so paying it (with whatever card token the fuzzer makes up) reaches the local Stripe."""
    when = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    event = requests.post(
        f"{stack.api_url}/events",
        json={"title": "Fuzz online", "time": when, "price": "10", "currency_code": "EUR",
              "number_of_tickets": 100, "payment": "online", "hold_minutes": 120},
        headers={"Authorization": f"Bearer {organizer}"},
        timeout=10,
    )  # fmt: skip
    event.raise_for_status()
    event_id = event.json()["event"]["id"]
    placed = requests.post(
        f"{stack.api_url}/orders",
        json={"event_id": event_id, "items": [{"quantity": 1}],
              "buyer": {"name": "Fuzz", "email": "fuzz-order@example.com",
                        "phone": "+442079460958"}},
        timeout=10,
    )  # fmt: skip
    placed.raise_for_status()
    return placed.json()["order_token"]


def _scanner(stack: Stack, event_id: str, organizer: str) -> str:
    """A door device of the fuzz event."""
    created = requests.post(
        f"{stack.api_url}/events/{event_id}/scanners",
        json={"name": "Fuzz gate"},
        headers={"Authorization": f"Bearer {organizer}"},
        timeout=10,
    )
    created.raise_for_status()
    return created.json()["token"]


def _buyer(stack: Stack, event_id: str) -> str:
    """A buyer's session, opened as a buyer opens it: book, ask for the link, exchange it."""
    email = "fuzz-buyer@example.com"
    booked = requests.post(
        f"{stack.api_url}/sold-tickets",
        json={"event_id": event_id, "quantity": 2,
              "buyer": {"name": "Fuzz", "email": email, "phone": "+442079460958"}},
        timeout=10,
    )  # fmt: skip
    booked.raise_for_status()
    requests.post(f"{stack.api_url}/buyer-access", json={"email": email}, timeout=10)
    link = None
    deadline = time.monotonic() + 15  # the event stream sends it within a second or so
    while link is None and time.monotonic() < deadline:
        time.sleep(0.2)
        mailbox = requests.get(f"{stack.emulator_url}/_devstack/sent-emails", timeout=10).json()
        link = next(
            (
                found.group(1)
                for m in reversed(mailbox["emails"])
                if email in m["to"]
                for found in [re.search(r"/my-tickets/([A-Za-z0-9_-]+)", m["body"] or "")]
                if found
            ),
            None,
        )
    if link is None:
        raise RuntimeError(f"no buyer-access link reached {email}")
    session = requests.post(f"{stack.api_url}/buyer-sessions", json={"token": link}, timeout=10)
    session.raise_for_status()
    return session.json()["auth_token"]


def fuzz(stack: Stack, role: str, token: str | None) -> dict:
    report = OUT / f"{role}.json"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{stack.api_url}/openapi.json",
        "--url", stack.api_url,
        "--checks", CHECKS,
        "--max-examples", str(MAX_EXAMPLES),
        "--no-color",
        "--report", "json",
        "--report-json-path", str(report),
        "--generation-database", "none",
    ]  # fmt: skip
    if SEED != "random":
        command += ["--seed", SEED]
    if token:
        # Changing one's own password needs the current one: fuzzing it would only lock the
        # caller out (three wrong guesses) and starve every later request of authorization.
        command += [
            "--header",
            f"Authorization: Bearer {token}",
            "--exclude-operation-id",
            "put_myself",
        ]
    with (OUT / f"{role}.log").open("w") as log:
        subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
    return json.loads(report.read_text())


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    # RATE_LIMITS=off: with the limits on, all but the first few anonymous requests to each
    # account route would be 429s, hiding the code behind them; the limits have their own tests.
    with (
        FakeProviders() as fake,
        running_stack(OUT / "stack.log", extra_env={**fake.env(), "RATE_LIMITS": "off"}) as stack,
    ):
        callers = identities(stack)
        # One schemathesis process per caller, side by side: they share nothing but the stack.
        with ThreadPoolExecutor(max_workers=len(callers)) as pool:
            runs = {role: pool.submit(fuzz, stack, role, token) for role, token in callers.items()}
            results = {role: run.result() for role, run in runs.items()}
    total = sum(r["test_cases"]["generated"] for r in results.values())
    failures = sum(r["test_cases"]["unique_failures"] for r in results.values())
    print(f"\n{'caller':<12}{'test cases':>12}{'failures':>10}   log")
    for role, result in results.items():
        cases = result["test_cases"]
        counts = f"{cases['generated']:>12}{cases['unique_failures']:>10}"
        print(f"{role:<12}{counts}   build/fuzz/{role}.log")
    print(f"{'total':<12}{total:>12}{failures:>10}")
    if failures or total < MIN_TEST_CASES:
        print(f"FAILED: {failures} failures; {total} test cases (at least {MIN_TEST_CASES} needed)")
        return 1
    print("fuzzing gate passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
