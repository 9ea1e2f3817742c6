"""Warm handler cost: CPU time per request spent by the API function itself.

The app runs in this process through Chalice's test client (the same event a Lambda gets); the
AWS emulator runs in its own process, so its CPU stays out of the figure while botocore's
(serialising calls, HTTP) stays in, as in Lambda. Each request is compared with a no-op route
added to the same app, which pays for Chalice's dispatch and our middleware only. Prints JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.settings import BENCH_ENV
from devstack.harness import free_port

WARMUP = 5
ROUNDS = 40


def _start_emulator() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.emulator", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    import requests

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return process, url
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the emulator did not start")


def per_request(run: Callable[[], Any], rounds: int = ROUNDS) -> dict[str, float]:
    """Median CPU and wall milliseconds of `run`, after a warm-up."""
    for _ in range(WARMUP):
        run()
    cpu, wall = [], []
    for _ in range(rounds):
        c0, w0 = time.process_time(), time.perf_counter()
        run()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return {"cpu_ms": statistics.median(cpu) * 1000, "wall_ms": statistics.median(wall) * 1000}


def main() -> dict[str, Any]:
    emulator, url = _start_emulator()
    try:
        os.environ.update(BENCH_ENV, AWS_ENDPOINT_URL=url, TABLE_PREFIX="cpu-")
        return _measure()
    finally:
        emulator.terminate()
        emulator.wait(10)


def _measure() -> dict[str, Any]:
    from chalice.test import Client

    from app import app
    from bench.seed import add_events, bearer
    from chalicelib.auth import authorizer
    from chalicelib.auth.passwords import hash_password, verify_password
    from chalicelib.bootstrap import bootstrap, verify_sender
    from chalicelib.services.accounts.users import new_user, save_new_user
    from chalicelib.settings import get_settings

    @app.route("/_bench/noop")
    def noop() -> dict:
        return {}

    bootstrap(get_settings(), create_missing_tables=True)
    verify_sender(get_settings())
    password = "bench-password-1"
    organizer = new_user(email="cpu-org@example.com", password_hash=hash_password(password),
                         name="Org", role="organizer", verified=True)  # fmt: skip
    save_new_user(organizer)
    add_events(organizer.id, 100)
    auth = {**bearer(organizer), "Content-Type": "application/json"}
    plain = {"Content-Type": "application/json"}
    event_body = json.dumps({"title": "Big", "time": "2031-01-01", "price": "10",
                             "currency_code": "EUR", "number_of_tickets": 1_000_000})  # fmt: skip
    buyers = iter(range(10**9))
    results: dict[str, dict[str, float]] = {}
    with Client(app, stage_name="dev") as client:
        http = client.http
        big = http.post("/events", headers=auth, body=event_body).json_body["event"]["id"]

        def checked(response: Any) -> Any:
            assert response.status_code < 300, response.body
            return response

        def book() -> Any:
            email = f"cpu{next(buyers)}@example.com"
            body = {
                "event_id": big,
                "ticket_type_id": big,  # the event has two types (below)
                "buyer": {"name": "B", "phone": "+442079460958", "email": email},
            }
            return checked(http.post("/sold-tickets", headers=plain, body=json.dumps(body)))

        vip = {"name": "VIP", "price": "90", "quantity": 500_000}
        created = http.post(f"/events/{big}/ticket-types", headers=auth, body=json.dumps(vip))
        vip_id = checked(created).json_body["ticket_type"]["id"]

        def order_10() -> Any:
            email = f"cpu{next(buyers)}@example.com"
            body = {"event_id": big, "buyer": {"name": "B", "phone": "+442079460958",
                                               "email": email},
                    "items": [{"ticket_type_id": big, "quantity": 5},
                              {"ticket_type_id": vip_id, "quantity": 5}]}  # fmt: skip
            return checked(http.post("/orders", headers=plain, body=json.dumps(body)))

        sales: list = []

        def confirm() -> Any:
            from chalicelib.db.changes import Change
            from chalicelib.services.stream import announcements

            if not sales:
                sales.extend(c for c in Change.scan() if c.type == "ticket.sold")
            sale = sales.pop()
            announcements.handle(sale)  # the stream consumer: records and queues
            announcements.send_email(sale)  # the side-effects worker: builds and sends

        login_body = json.dumps({"email": organizer.email, "password": password})
        authorizer_event = {
            "type": "TOKEN",
            "authorizationToken": auth["Authorization"],
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc/api/GET/myself",
        }
        stored_hash = hash_password(password)
        operations: dict[str, Callable[[], Any]] = {
            "no-op route": lambda: checked(http.get("/_bench/noop")),
            "login": lambda: checked(http.post("/login", headers=plain, body=login_body)),
            "password hash (inside login)": lambda: verify_password(password, stored_hash),
            "authorizer": lambda: authorizer.bearer_auth(authorizer_event, None),
            "create event": lambda: checked(http.post("/events", headers=auth, body=event_body)),
            "book 1": book,
            "order 10 across 2 types": order_10,
            "GET /events/{id}/ticket-types": lambda: checked(
                http.get(f"/events/{big}/ticket-types")
            ),
            # The stream's part of a booking, on the sales "book 1" just made.
            "confirmation (consumer + worker)": confirm,
            "GET /events (page of 50)": lambda: checked(http.get("/events?limit=50")),
        }
        for name, run in operations.items():
            results[name] = per_request(run, rounds=15 if name == "login" else ROUNDS)
    floor = results["no-op route"]["cpu_ms"]
    for figures in results.values():
        figures["x_noop"] = figures["cpu_ms"] / floor
    return {"operations": results}


if __name__ == "__main__":
    print("\n" + json.dumps(main()))
