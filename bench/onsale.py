"""`make onsale`: a hot on-sale on the local stack, under the emulator's partition model scaled
down (DYNAMODB_LIMITS), with the on-sale queue in front.

Buyers (threads) take places before the queue opens, poll until admitted, then order one
ticket each, retrying a 503 after its Retry-After, a bounded number of times. Printed: tickets
sold per second while selling, the model's throttles and conflicts, the buyers' retries, order
latency p50/p99, oversold (sold past capacity: must be 0), stranded (tickets left unsold while
buyers were turned away: must be 0), and fairness, the rank correlation between queue position
and the order in which buyers bought. Written to build/onsale.json.

Today every order of one event writes the event's pool and type items (one partition key), so
this measures the unsharded ceiling; sharded stock (services/sales/stock_shards.py) is to be
compared here at S = 1, 4, 16, 64 once orders take from it.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from bench.load import PASSWORD, percentile
from chalicelib.settings import LOCAL_ADMIN_EMAIL, LOCAL_ADMIN_PASSWORD
from devstack.harness import Stack, running_stack

PROJECT = Path(__file__).resolve().parents[1]
OUT = PROJECT / "build" / "onsale.json"
LIMITS = "wcu:20,rcu:60,conflict_ms:2"  # 50x below AWS: one key takes 10 orders a second
BUYERS = 160
CAPACITY = 120
RETRIES = 8


def spearman(xs: list[float], ys: list[float]) -> float:
    def ranks(values: list[float]) -> list[int]:
        out = [0] * len(values)
        for rank, index in enumerate(sorted(range(len(values)), key=values.__getitem__)):
            out[index] = rank
        return out

    n = len(xs)
    if n < 2:
        return 1.0
    rx, ry = ranks(xs), ranks(ys)
    return 1 - 6 * sum((a - b) ** 2 for a, b in zip(rx, ry, strict=True)) / (n * (n * n - 1))


class Sale:
    def __init__(self, stack: Stack) -> None:
        self.url = stack.api_url
        self.emulator = stack.emulator_url
        login = {"email": LOCAL_ADMIN_EMAIL, "password": LOCAL_ADMIN_PASSWORD}
        admin = self._post("/login", {}, login)["auth_token"]
        email = f"onsale-{time.time_ns()}@example.com"
        user = {"email": email, "password": PASSWORD, "name": "Venue", "role": "organizer"}
        self._post("/users", {"Authorization": f"Bearer {admin}"}, user)
        token = self._post("/login", {}, {"email": email, "password": PASSWORD})["auth_token"]
        self.organizer = {"Authorization": f"Bearer {token}"}

    def _post(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(f"{self.url}{path}", json=body, headers=headers, timeout=30)
        response.raise_for_status()
        return response.json()

    def run(self, admit_per_second: int) -> dict[str, Any]:
        opens = datetime.now(UTC) + timedelta(seconds=8)
        event = self._post("/events", self.organizer, {
            "title": "On-sale", "time": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            "price": "40", "currency_code": "GBP", "number_of_tickets": CAPACITY,
            "queue": {"opens_at": opens.isoformat(), "admit_per_second": admit_per_second},
        })["event"]  # fmt: skip
        requests.delete(f"{self.emulator}/_devstack/partitions", timeout=10)
        bought: list[tuple[int, float, float]] = []  # position, finished at, latency
        refused: list[int] = []
        retries = [0]
        lock = threading.Lock()

        def buyer(n: int) -> None:
            session = requests.Session()
            place = session.post(f"{self.url}/events/{event['id']}/queue", timeout=30).json()
            time.sleep(max(0.0, (opens - datetime.now(UTC)).total_seconds()) + 0.1)
            while True:
                polled = session.get(f"{self.url}/queue/{place['queue_token']}", timeout=30)
                if polled.status_code != 200:  # throttled: as told
                    time.sleep(float(polled.headers.get("Retry-After", "1")))
                    continue
                found = polled.json()
                if found["admitted"]:
                    break
                time.sleep(min(max(found["estimated_wait_s"] - 0.5, 0.05), 1.0))
            body = {"event_id": event["id"], "items": [{"quantity": 1}],
                    "buyer": {"name": "B", "email": f"b{n}-{event['id'][:6]}@example.com",
                              "phone": "+442079460958"}}  # fmt: skip
            headers = {"X-Admission": found["admission"], "Idempotency-Key": f"{event['id']}-{n}"}
            for _ in range(RETRIES):
                began = time.monotonic()
                answer = session.post(f"{self.url}/orders", json=body, headers=headers, timeout=60)
                if answer.status_code == 201:
                    with lock:
                        bought.append((found["position"], time.monotonic(),
                                       time.monotonic() - began))  # fmt: skip
                    return
                if answer.status_code != 503:
                    break
                with lock:
                    retries[0] += 1
                time.sleep(float(answer.headers.get("Retry-After", "1")))
            with lock:
                refused.append(found["position"])

        threads = [threading.Thread(target=buyer, args=(n,)) for n in range(BUYERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        model = requests.get(f"{self.emulator}/_devstack/partitions", timeout=10).json()["model"]
        counts = requests.get(f"{self.url}/events/{event['id']}", timeout=30).json()["event"]
        finished = sorted(t for _, t, _ in bought)
        selling_s = finished[-1] - finished[0] if len(finished) > 1 else 0.0
        latencies = [latency for _, _, latency in bought]
        return {
            "buyers": BUYERS, "capacity": CAPACITY, "sold": counts["sold"],
            "tickets_per_s": (len(finished) - 1) / selling_s if selling_s else 0.0,
            "throttles": model["stats"].get("ThrottlingError", 0),
            "conflicts": model["stats"].get("TransactionConflict", 0), "retries": retries[0],
            "p50_ms": percentile(latencies, 0.5) * 1000 if latencies else None,
            "p99_ms": percentile(latencies, 0.99) * 1000 if latencies else None,
            "oversold": max(0, counts["sold"] - CAPACITY),
            "stranded": counts["available"] if refused else 0,
            "refused_buyers": len(refused),
            "fairness": spearman([p for p, _, _ in bought], [t for _, t, _ in bought]),
            "hottest": model["hottest"][:5],
        }  # fmt: skip


def main() -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(Path(tmp) / "stack.log",
                      extra_env={"RATE_LIMITS": "off", "DYNAMODB_LIMITS": LIMITS}) as stack,
    ):  # fmt: skip
        sale = Sale(stack)
        # Admitted faster than it can sell: what the design sells a second, and how it copes.
        saturated = sale.run(admit_per_second=1000)
        # Admitted at 80 % of that: the pace a fair sale is run at (buyers admitted faster
        # than the sale can serve them race each other, and position stops deciding).
        paced = sale.run(admit_per_second=max(1, int(saturated["tickets_per_s"] * 0.8)))
    return {"limits": LIMITS, "runs": {"1": saturated}, "paced": {"1": paced}}


def show(found: dict[str, Any]) -> None:
    print(f"\n== On-sale under DYNAMODB_LIMITS={found['limits']} " + "=" * 40)
    print(f"{'S':>3}{'tickets/s':>11}{'throttles':>11}{'conflicts':>11}{'retries':>9}"
          f"{'p50 ms':>8}{'p99 ms':>8}{'sold':>6}{'oversold':>10}{'stranded':>10}"
          f"{'fairness':>10}")  # fmt: skip
    rows = [(f"{s}", r) for s, r in found["runs"].items()]
    rows += [(f"{s}*", r) for s, r in found["paced"].items()]
    for shards, r in rows:
        print(f"{shards:>3}{r['tickets_per_s']:>11.1f}{r['throttles']:>11}{r['conflicts']:>11}"
              f"{r['retries']:>9}"
              f"{r['p50_ms'] or 0:>8.0f}{r['p99_ms'] or 0:>8.0f}{r['sold']:>6}"
              f"{r['oversold']:>10}{r['stranded']:>10}{r['fairness']:>10.3f}")  # fmt: skip
    print("* admitted at 80 % of what that S sold a second: the pace a fair on-sale runs at")


if __name__ == "__main__":
    outcome = main()
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(outcome, indent=2))
    show(outcome)
    print(f"\nwritten to {OUT.relative_to(PROJECT)}")
    every = [*outcome["runs"].values(), *outcome["paced"].values()]
    sys.exit(0 if all(r["oversold"] == 0 and r["stranded"] == 0 for r in every) else 1)
