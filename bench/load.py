"""Local load: the `make run` stack on loopback under 1, 4, 16 and 64 parallel clients.

Each client is a thread with its own keep-alive connection sending one request after another
for a fixed time. Errors are anything but the expected status, or no answer at all. The stack
runs with RATE_LIMITS=off: this measures throughput, and the abuse limits would (rightly) refuse
a load generator on one address. Also measured: a booking's latency with 10 and with 10,000
tickets already sold, which must not grow (the emulator's transactions do not copy tables).
Prints JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import requests

from chalicelib.settings import LOCAL_ADMIN_EMAIL, LOCAL_ADMIN_PASSWORD
from devstack.harness import Stack, running_stack

CLIENTS = (1, 4, 16, 64)
SECONDS = 15.0
TABLE_PREFIX = "events-api-dev-"
PASSWORD = "load-password-1"


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def drive(clients: int, seconds: float, request: Callable[[requests.Session, int], int]) -> dict:
    """`clients` threads calling `request(session, client_number)` until time is up; the
    callable returns the HTTP status, and 2xx counts as success."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    start_line = threading.Barrier(clients + 1)
    deadline = 0.0

    def client(number: int) -> None:
        nonlocal errors
        session = requests.Session()
        mine, failed = [], 0
        start_line.wait()
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            try:
                ok = 200 <= request(session, number) < 300
            except requests.RequestException:
                ok = False
            mine.append(time.perf_counter() - began)
            failed += not ok
        with lock:
            latencies.extend(mine)
            errors += failed

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    deadline = time.perf_counter() + seconds
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "errors": errors,
    }


class Seeded:
    """What the load needs, made through the API: an organizer with 100 events, a
    10,000-ticket event, and one account per login client (three password checks at once on
    one account are the lockout's limit, so parallel logins use different accounts)."""

    def __init__(self, stack: Stack) -> None:
        self.url = stack.api_url
        self.emulator_url = stack.emulator_url
        admin = self._token(LOCAL_ADMIN_EMAIL, LOCAL_ADMIN_PASSWORD)
        self.admin = {"Authorization": f"Bearer {admin}"}
        self.logins = [self._user(f"login{n}@example.com", "reseller") for n in range(max(CLIENTS))]
        organizer_email = self._user("load-org@example.com", "organizer")
        organizer = {"Authorization": f"Bearer {self._token(organizer_email, PASSWORD)}"}
        for n in range(100):
            self._post("/events", organizer, self._event(f"Event {n}", 100))
        self.big = self._post("/events", organizer, self._event("Big", 10_000))["event"]
        self.buyers = iter(range(10**9))
        self._lock = threading.Lock()

    @staticmethod
    def _event(title: str, tickets: int) -> dict[str, Any]:
        return {"title": title, "time": "2031-06-01T20:00:00Z", "price": "50",
                "currency_code": "GBP", "number_of_tickets": tickets}  # fmt: skip

    def _post(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(f"{self.url}{path}", json=body, headers=headers, timeout=30)
        response.raise_for_status()
        return response.json()

    def _token(self, email: str, password: str) -> str:
        return self._post("/login", {}, {"email": email, "password": password})["auth_token"]

    def _user(self, email: str, role: str) -> str:
        body = {"email": email, "password": PASSWORD, "name": "Load", "role": role}
        self._post("/users", self.admin, body)
        return email

    def next_buyer(self) -> str:
        with self._lock:
            return f"buyer{next(self.buyers)}@example.com"

    def list_events(self, session: requests.Session, _: int) -> int:
        return session.get(f"{self.url}/events?limit=100", timeout=30).status_code

    def login(self, session: requests.Session, client: int) -> int:
        body = {"email": self.logins[client], "password": PASSWORD}
        return session.post(f"{self.url}/login", json=body, timeout=30).status_code

    def book(self, session: requests.Session, _: int, event_id: str | None = None) -> int:
        buyer = {"name": "Load", "email": self.next_buyer(), "phone": "+442079460958"}
        body = {"event_id": event_id or self.big["id"], "buyer": buyer}
        return session.post(f"{self.url}/sold-tickets", json=body, timeout=30).status_code


def sell_directly(emulator_url: str, event: dict[str, Any], count: int) -> None:
    """Put `count` sold tickets in the emulator as bookings would have, without the API."""
    dynamodb = boto3.resource("dynamodb", endpoint_url=emulator_url, region_name="us-east-1",
                              aws_access_key_id="local", aws_secret_access_key="local")  # fmt: skip
    tickets = dynamodb.Table(f"{TABLE_PREFIX}bookings")
    with tickets.batch_writer() as batch:
        for n in range(count):
            batch.put_item(Item={"id": f"bulk-{event['id']}-{n}", "event_id": event["id"],
                                 "seller_id": event["organizer_id"],
                                 "organizer_id": event["organizer_id"], "buyer_id": "bulk",
                                 # an unsharded sale's index keys: the plain ids
                                 "event_part": event["id"],
                                 "seller_part": event["organizer_id"],
                                 "organizer_part": event["organizer_id"],
                                 "code": "BULK", "price_minor": 5000, "currency_code": "GBP",
                                 "created_at": "2026-01-01T00:00:00.000000+0000"})  # fmt: skip
    dynamodb.Table(f"{TABLE_PREFIX}allocations").update_item(
        Key={"event_id": event["id"], "seller_id": event["organizer_id"]},
        UpdateExpression="ADD sold :n, available :minus",
        ExpressionAttributeValues={":n": count, ":minus": -count},
    )


def booking_at_sizes(seeded: Seeded) -> dict[str, Any]:
    """One client booking 40 times with 10 sold, then 40 times with 10,000 sold."""
    body = {**seeded._event("Sizes", 20_000), "organizer_id": seeded.big["organizer_id"]}
    event = seeded._post("/events", seeded.admin, body)["event"]
    session = requests.Session()

    def timed() -> float:
        samples = []
        for _ in range(40):
            began = time.perf_counter()
            assert seeded.book(session, 0, event["id"]) == 201
            samples.append(time.perf_counter() - began)
        return statistics.median(samples) * 1000

    sell_directly(seeded.emulator_url, event, 10)
    at_10 = timed()
    sell_directly(seeded.emulator_url, event, 9_950)
    at_10000 = timed()
    return {"p50_ms_at_10_sold": at_10, "p50_ms_at_10000_sold": at_10000,
            "ratio": at_10000 / at_10}  # fmt: skip


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stack_processes(stack: Stack) -> dict[str, int]:
    """The stack's processes by module (devstack.emulator -> emulator), from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_text().split("\0")
        except OSError:
            continue
        if parent == stack.process.pid and "-m" in command:
            module = command[command.index("-m") + 1]
            found[module.removeprefix("devstack.")] = int(entry.name)
    return found


def cpu_per_booking(seeded: Seeded, stack: Stack, seconds: float) -> dict[str, Any]:
    """Where a booking's CPU goes, per process of the stack, with one client booking for
    `seconds` (after as long idle, to tell the polling apart)."""
    processes = _stack_processes(stack)
    idle_from = {name: _cpu_seconds(pid) for name, pid in processes.items()}
    time.sleep(seconds / 3)
    before = {name: _cpu_seconds(pid) for name, pid in processes.items()}
    idle = {name: (before[name] - idle_from[name]) / (seconds / 3) for name in processes}
    run = drive(1, seconds, seeded.book)
    per_booking = {
        name: (_cpu_seconds(pid) - before[name]) / run["requests"] * 1000
        for name, pid in processes.items()
    }
    return {"bookings_per_s": run["rps"], "cpu_ms_per_booking": per_booking,
            "idle_cpu_share": idle}  # fmt: skip


def buyer_access_timing(seeded: Seeded, tries: int = 11) -> dict[str, Any]:
    """`POST /buyer-access` for an address holding tickets and for a stranger's, alternated,
    `tries` each: the answer is the same, and its time should say nothing either."""
    session = requests.Session()
    holder = seeded.next_buyer()
    body = {"event_id": seeded.big["id"], "buyer": {"name": "H", "email": holder,
                                                     "phone": "+442079460958"}}  # fmt: skip
    assert session.post(f"{seeded.url}/sold-tickets", json=body, timeout=30).status_code == 201
    samples: dict[str, list[float]] = {"holder": [], "stranger": []}
    for n in range(tries):
        for who, email in (("holder", holder), ("stranger", f"nobody{n}@example.com")):
            began = time.perf_counter()
            answer = session.post(f"{seeded.url}/buyer-access", json={"email": email}, timeout=30)
            samples[who].append(time.perf_counter() - began)
            assert answer.status_code == 202, answer.text
    holder_ms = statistics.median(samples["holder"]) * 1000
    stranger_ms = statistics.median(samples["stranger"]) * 1000
    return {"tries": tries, "holder_p50_ms": holder_ms, "stranger_p50_ms": stranger_ms,
            "ratio": holder_ms / stranger_ms}  # fmt: skip


def main(seconds: float = SECONDS) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(Path(tmp) / "stack.log", extra_env={"RATE_LIMITS": "off"}) as stack,
    ):
        seeded = Seeded(stack)
        workloads = {
            "GET /events (100 events)": seeded.list_events,
            "POST /login": seeded.login,
            "POST /sold-tickets (10,000-ticket event)": seeded.book,
        }
        results: dict[str, Any] = {}
        for name, request in workloads.items():
            results[name] = {str(n): drive(n, seconds, request) for n in CLIENTS}
        sizes = booking_at_sizes(seeded)
        access = buyer_access_timing(seeded)
        cpu = cpu_per_booking(seeded, stack, seconds)
    return {"seconds_per_run": seconds, "workloads": results, "booking_by_sold": sizes,
            "buyer_access": access, "cpu_per_booking": cpu}  # fmt: skip


if __name__ == "__main__":
    outcome = main(float(sys.argv[1]) if len(sys.argv) > 1 else SECONDS)
    print(json.dumps(outcome))
