"""`make onsale`: hot on-sales on the local stack, under the emulator's partition model scaled
down (DYNAMODB_LIMITS: one partition key takes 6 write units a second, 1/167 of AWS's 1,000),
comparing stock shards S = 1, 4, 16, 64 on the same machine in the same run. RATE_LIMITS=off:
the load comes from one address.

For each S:
- **rush**: CLIENTS buyers order one ticket at a time as fast as answers come (a 503 is waited
  out as its Retry-After says, at most RETRIES times), until every one of them is told
  `sold_out`. Printed: tickets sold a second while selling, the model's throttles and
  conflicts, retries, p50/p99 order latency, oversold (sold past capacity: must be 0) and
  stranded (tickets the counts still call available once every buyer was told sold out:
  must be 0).
- **queued**: QUEUED buyers take places before the on-sale queue opens (shuffled at
  opens_at), which admits them at half of what the rush sold a second; each asks for its
  admission when its turn comes (position / rate after opens_at) and buys at once. Fairness
  is the rank correlation between queue position and the order in which they bought
  (target >= 0.99).

Then SEEDED runs with random S, random throttling and conflicts injected by the model, random
order sizes and a tail of single tickets: each must end with 0 oversold, 0 stranded, and the
base items plus every shard adding up to capacity - sold - held (read raw from the emulator).
Last, the design's figures extrapolated to AWS's published limits, with the arithmetic. All
of it is written to build/onsale.json.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import requests

from bench.load import PASSWORD, percentile
from chalicelib.settings import LOCAL_ADMIN_EMAIL, LOCAL_ADMIN_PASSWORD
from devstack.harness import Stack, running_stack

PROJECT = Path(__file__).resolve().parents[1]
OUT = PROJECT / "build" / "onsale.json"
WCU = 6  # per partition key per second; AWS: 1,000
LIMITS = f"wcu:{WCU},rcu:{3 * WCU},conflict_ms:2"
SHARDS = (1, 4, 16, 64)
CLIENTS = 16
QUEUED = 40
QUEUED_S = 6
BUYER_PROCESSES = 4
# The queue admits at half the rush rate: room for the bursts a random pick of shards makes.
PACE = 0.5
RETRIES = 8
SEEDED = 20
SEEDED_WCU = 20  # the seeded runs check correctness, faster
TABLE_PREFIX = "events-api-dev-"
# AWS's published figures (DynamoDB, API Gateway, Lambda): see the README's on-sale section.
AWS_KEY_WCU, AWS_KEY_RCU, AWS_TABLE_WCU = 1000, 3000, 40_000
AWS_API_RPS, AWS_LAMBDA_CONCURRENCY = 10_000, 1000


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


def _displacement(bought: list[dict[str, Any]]) -> list[int]:
    """How many places each buyer bought away from its place in the queue (bought is in the
    order of purchase)."""
    by_position = sorted(range(len(bought)), key=lambda k: bought[k]["position"])
    return [abs(rank - k) for rank, k in enumerate(by_position)]


def capacity_for(shards: int) -> int:
    """Enough for every shard to sell a while before its tail (a real sale's shards hold
    thousands: here 40 each, so the tail is not most of the run)."""
    return max(80, 40 * shards)


def _queued_buyers(job: tuple[str, str, str, int, list[int]]) -> list[dict[str, Any]]:
    """One process's buyers (threads): take a place, ask for the admission when the turn
    comes (position / rate after opens_at), buy one ticket. Each buyer's position, when the
    order was written, its retries and latency."""
    url, event_id, opens_iso, admit_per_second, numbers = job
    opens = datetime.fromisoformat(opens_iso)
    sale = Sale.__new__(Sale)
    sale.url = url
    bought: list[dict[str, Any]] = []
    lock = threading.Lock()

    def buyer(n: int) -> None:
        session = requests.Session()
        place = session.post(f"{url}/events/{event_id}/queue", timeout=30).json()
        time.sleep(max(0.0, (opens - datetime.now(UTC)).total_seconds()) + 0.1)
        while True:
            polled = session.get(f"{url}/queue/{place['queue_token']}", timeout=30)
            if polled.status_code != 200:
                time.sleep(float(polled.headers.get("Retry-After", "1")))
                continue
            found = polled.json()
            if found["admitted"]:
                break
            # A buyer who acts when its turn comes: position p is admitted p / rate seconds
            # after opens_at (the event says both), so it asks again just then.
            turn = opens + timedelta(seconds=found["position"] / admit_per_second)
            time.sleep(max(0.01, (turn - datetime.now(UTC)).total_seconds() + 0.01))
        headers = {"X-Admission": found["admission"]}
        got, tried, latency, created = sale.order(session, event_id, 1, f"q{n}-{event_id[:6]}",
                                                  headers)  # fmt: skip
        if got and created:  # bought when the server wrote the order
            with lock:
                bought.append({"position": found["position"], "retries": tried,
                               "latency": latency,
                               "at": datetime.fromisoformat(created).timestamp()})  # fmt: skip

    threads = [threading.Thread(target=buyer, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    return bought


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
        self.dynamodb = boto3.resource(
            "dynamodb", endpoint_url=self.emulator, region_name="us-east-1",
            aws_access_key_id="local", aws_secret_access_key="local",
        )  # fmt: skip

    def _post(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(f"{self.url}{path}", json=body, headers=headers, timeout=60)
        response.raise_for_status()
        return response.json()

    def model(self, spec: str | None = None) -> dict[str, Any]:
        if spec is not None:
            requests.put(f"{self.emulator}/_devstack/partitions", data=spec, timeout=10)
        requests.delete(f"{self.emulator}/_devstack/partitions", timeout=10)
        return self.figures()

    def figures(self) -> dict[str, Any]:
        return requests.get(f"{self.emulator}/_devstack/partitions", timeout=10).json()["model"]

    def event(self, capacity: int, shards: int, queue: dict | None = None) -> str:
        body = {"title": "On-sale", "price": "40", "currency_code": "GBP",
                "time": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
                "number_of_tickets": capacity, "stock_shards": shards, "queue": queue}  # fmt: skip
        event_id = self._post("/events", self.organizer, body)["event"]["id"]
        time.sleep(1.2)  # the buckets the setup spent refill
        return event_id

    def counts(self, event_id: str) -> dict[str, Any]:
        return requests.get(f"{self.url}/events/{event_id}", timeout=30).json()["event"]

    # --- ordering ------------------------------------------------------------------------------

    def order(
        self, session: requests.Session, event_id: str, quantity: int, tag: str,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, int, float, str | None]:  # fmt: skip
        """(tickets bought, retries, latency s, the order's created_at); 0 tickets when told
        sold out or refused."""
        body = {"event_id": event_id, "items": [{"quantity": quantity}],
                "buyer": {"name": "B", "email": f"{tag}@example.com",
                          "phone": "+442079460958"}}  # fmt: skip
        began, retries = time.monotonic(), 0
        for _ in range(RETRIES):
            answer = session.post(f"{self.url}/orders", json=body, headers=headers, timeout=60)
            if answer.status_code == 201:
                created = answer.json()["order"]["created_at"]
                return quantity, retries, time.monotonic() - began, created
            if answer.status_code != 503:
                return 0, retries, time.monotonic() - began, None
            retries += 1
            time.sleep(float(answer.headers.get("Retry-After", "1")) * random.uniform(0.5, 1))
        return 0, retries, time.monotonic() - began, None

    def rush(self, shards: int) -> dict[str, Any]:
        capacity = capacity_for(shards)
        event_id = self.event(capacity, shards)
        self.model()
        sold: list[tuple[float, float]] = []  # finished at, latency
        retries = [0]
        lock = threading.Lock()

        def client(n: int) -> None:
            session = requests.Session()
            for k in range(capacity + 1):
                got, tried, latency, _ = self.order(session, event_id, 1,
                                                    f"r{n}-{k}-{event_id[:6]}")  # fmt: skip
                with lock:
                    retries[0] += tried
                    if got:
                        sold.append((time.monotonic(), latency))
                if not got and tried < RETRIES:  # sold out (a 409): this buyer is done
                    return

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
        model = self.figures()
        finished = sorted(t for t, _ in sold)
        selling_s = finished[-1] - finished[0] if len(finished) > 1 else 0.0
        counts = self.counts(event_id)
        return {
            "shards": shards, "capacity": capacity, "sold": counts["sold"],
            "tickets_per_s": (len(finished) - 1) / selling_s if selling_s else 0.0,
            **self._faults(model), "retries": retries[0],
            "p50_ms": percentile([x for _, x in sold], 0.5) * 1000,
            "p99_ms": percentile([x for _, x in sold], 0.99) * 1000,
            "oversold": max(0, counts["sold"] - capacity, len(sold) - capacity),
            "stranded": counts["available"],
            "lane_open_after": counts["stock_lane_open"],
            "hottest": model["hottest"], "tables": model["tables"],
        }  # fmt: skip

    @staticmethod
    def _faults(model: dict[str, Any]) -> dict[str, int]:
        stats = model["stats"]
        throttles = (stats.get("ThrottlingError", 0) + stats.get("ThrottlingException", 0)
                     + stats.get("ProvisionedThroughputExceededException", 0))  # fmt: skip
        return {"throttles": throttles, "conflicts": stats.get("TransactionConflict", 0)
                + stats.get("TransactionConflictException", 0)}  # fmt: skip

    def queued(self, shards: int, admit_per_second: int) -> dict[str, Any]:
        opens = datetime.now(UTC) + timedelta(seconds=10)
        queue = {"opens_at": opens.isoformat(), "admit_per_second": admit_per_second}
        event_id = self.event(max(capacity_for(shards), int(admit_per_second * QUEUED_S) + 1),
                              shards, queue)  # fmt: skip
        self.model()
        # Enough buyers to be admitted over QUEUED_S seconds, in BUYER_PROCESSES processes of
        # threads: one process's threads answer their turns late once dozens come a second.
        buyers = max(QUEUED, int(admit_per_second * QUEUED_S))
        groups = [list(range(k, buyers, BUYER_PROCESSES)) for k in range(BUYER_PROCESSES)]
        jobs = [(self.url, event_id, opens.isoformat(), admit_per_second, group)
                for group in groups]  # fmt: skip
        with multiprocessing.get_context("fork").Pool(BUYER_PROCESSES) as pool:
            results = pool.map(_queued_buyers, jobs)
        bought = sorted((b for found in results for b in found), key=lambda b: b["at"])
        moved = _displacement(bought)
        return {"admit_per_second": admit_per_second, "buyers": buyers, "bought": len(bought),
                "retries": sum(b["retries"] for b in bought),
                "retried_buyers": sum(1 for b in bought if b["retries"]),
                "p50_ms": percentile([b["latency"] for b in bought], 0.5) * 1000,
                "p99_ms": percentile([b["latency"] for b in bought], 0.99) * 1000,
                "max_displacement": max(moved, default=0), **self._faults(self.figures()),
                "fairness": spearman([b["position"] for b in bought],
                                     [b["at"] for b in bought])}  # fmt: skip

    # --- seeded correctness runs ---------------------------------------------------------------

    def seeded(self, seed: int) -> dict[str, Any]:
        rng = random.Random(seed)
        shards = rng.choice((1, 2, 4, 8, 16))
        # Per item of a transaction: an order's 8-10 items make it 0-40 % of its attempts.
        throttle, conflict = round(rng.uniform(0, 0.03), 3), round(rng.uniform(0, 0.03), 3)
        limits = f"wcu:{SEEDED_WCU},rcu:{3 * SEEDED_WCU},conflict_ms:2"
        capacity = rng.randint(max(40, 6 * shards), 100)
        self.model(limits)
        event_id = self.event(capacity, shards)  # set up without faults; sold with them
        self.model(f"{limits},throttle_rate:{throttle},conflict_rate:{conflict},seed:{seed}")
        sold = [0]
        lock = threading.Lock()

        def client(n: int) -> None:
            session, mine = requests.Session(), random.Random(seed * 100 + n)
            for k in range(capacity + 1):
                # Orders of 1-4 while plenty is left, then a tail of single tickets.
                with lock:
                    left = capacity - sold[0]
                quantity = mine.randint(1, 4) if left > capacity // 4 else 1
                got, tried, _, _ = self.order(session, event_id, quantity, f"s{seed}-{n}-{k}")
                with lock:
                    sold[0] += got
                if not got and tried < RETRIES and quantity == 1:
                    return  # told sold out for a single ticket

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
        counts = self.counts(event_id)
        return {"seed": seed, "shards": shards, "capacity": capacity,
                "throttle_rate": throttle, "conflict_rate": conflict, "sold": counts["sold"],
                "sold_seen": sold[0], "oversold": max(0, counts["sold"] - capacity),
                "stranded": counts["available"], "adds_up": self.adds_up(event_id),
                **self._faults(self.figures())}  # fmt: skip

    def adds_up(self, event_id: str) -> bool:
        """The stored items, read raw: the organizer's pool plus every shard's slice is
        capacity - sold - held, and each type's remaining likewise."""
        table = self.dynamodb.Table
        event = table(f"{TABLE_PREFIX}events").get_item(Key={"id": event_id},
                                                        ConsistentRead=True)["Item"]  # fmt: skip
        pools = table(f"{TABLE_PREFIX}allocations").query(
            KeyConditionExpression="event_id = :e", ExpressionAttributeValues={":e": event_id},
            ConsistentRead=True)["Items"]  # fmt: skip
        types = table(f"{TABLE_PREFIX}ticket-types").query(
            KeyConditionExpression="event_id = :e", ExpressionAttributeValues={":e": event_id},
            ConsistentRead=True)["Items"]  # fmt: skip
        shards = [table(f"{TABLE_PREFIX}stock-shards").get_item(
            Key={"id": f"{event_id}#{i}"}, ConsistentRead=True).get("Item")
            for i in range(1, int(event.get("stock_shard_items") or 0) + 1)]  # fmt: skip
        shards = [s for s in shards if s is not None]
        (pool,) = pools
        available = pool["available"] + sum(s["available"] for s in shards)
        sold = pool["sold"] + sum(s["sold"] for s in shards)
        held = pool["held"] + sum(s["held"] for s in shards)
        ok = available == event["number_of_tickets"] - sold - held and available >= 0
        for ticket_type in types:
            mine = [s["types"].get(ticket_type["id"], {}) for s in shards]
            remaining = ticket_type["remaining"] + sum(m.get("remaining", 0) for m in mine)
            counted = (ticket_type["sold"] + ticket_type["held"]
                       + sum(m.get("sold", 0) + m.get("held", 0) for m in mine))  # fmt: skip
            ok &= remaining == ticket_type["quantity"] - counted
        return bool(ok and all(s["available"] >= 0 for s in shards))


# --- AWS --------------------------------------------------------------------------------------


def extrapolate(run: dict[str, Any], target: int = 10_000) -> dict[str, Any]:
    """The measured run's costs per ticket, at AWS's published limits: the ceilings of one
    event's sale and what 10,000 tickets a second needs, with the arithmetic."""
    tickets = run["sold"]
    shards = run["shards"]
    written = [h for h in run["hottest"] if h["kind"] == "w"]
    lane = sum(row["units"] for row in run["tables"] if row["kind"] == "w"
               and row["table"].endswith("stock-shards") and not row["index"])  # fmt: skip
    lines = [f"measured at S={shards}: {tickets} tickets"]
    key_ceiling = 0.0
    if lane:
        # Each ticket is taken on one shard: its units there, spread over S keys.
        per_ticket = lane / tickets
        key_ceiling = AWS_KEY_WCU / per_ticket * shards
        lines += [f"the shards: {lane:.0f} WCU for {tickets} tickets = {per_ticket:.2f} WCU a "
                  f"ticket on its shard -> {shards} x {AWS_KEY_WCU} WCU/s / {per_ticket:.2f} = "
                  f"{key_ceiling:,.0f} tickets/s"]  # fmt: skip
    other = next((h for h in written if not h["table"].endswith("stock-shards")), None)
    if other is not None:
        name = other["table"].removeprefix(TABLE_PREFIX) + (f"/{other['index']}"
                                                            if other["index"] else "")  # fmt: skip
        lines.append(
            f"hottest other written key: {name}: {other['units']:.0f} WCU in the whole "
            "run (the tail, rebalancing: a few seconds of one key at AWS's rate)"
        )
    per_table = {}
    for row in run["tables"]:
        if row["kind"] == "w":
            name = row["table"].removeprefix(TABLE_PREFIX) + (f"/{row['index']}" if row["index"]
                                                               else "")  # fmt: skip
            per_table[name] = row["units"] / tickets
    busiest, units = max(per_table.items(), key=lambda item: item[1])
    table_ceiling = AWS_TABLE_WCU / units
    lines.append(f"busiest table: {busiest} at {units:.2f} WCU a ticket: {AWS_TABLE_WCU:,} "
                 f"WRU/s quota / {units:.2f} = {table_ceiling:,.0f} tickets/s")  # fmt: skip
    if busiest == "changes":
        lines.append(
            "  (a sale records 2 changes of under 1 KB: 4 WCU a ticket; the rest is "
            "attempts refused by a dry shard, which DynamoDB charges as well)"
        )
    # A shard takes 2 WCU (a transactional write) per order of one ticket.
    shards_needed = math.ceil(target * 2 / AWS_KEY_WCU / 0.5)  # at half a key's rate
    lines.append(f"{target:,} tickets/s of one-ticket orders: {target:,} x 2 WCU on the shards "
                 f"/ (1,000 WCU x 50 % headroom) = {shards_needed} shards -> stock_shards=64 "
                 "gives 32,000/s at full rate")  # fmt: skip
    lines.append(
        f"index parts: the event's {target:,} tickets/s over 64 parts = "
        f"{target / 64:,.0f} WCU/s a part; an organizer's over 16 = {target / 16:,.0f}"
    )
    warm = target * units
    lines.append(
        f"table warm throughput: {busiest} needs {warm:,.0f} WRU/s "
        f"(new on-demand tables start at 4,000; raise warm throughput before the sale)"
    )
    if warm > AWS_TABLE_WCU:
        quota = math.ceil(warm / 10_000) * 10_000
        lines.append(f"quota to raise: DynamoDB's table-level write throughput, {AWS_TABLE_WCU:,}"
                     f" -> {quota:,} WRU/s (Service Quotas), for {busiest}")  # fmt: skip
    lines.append(
        f"API Gateway: {target:,} orders/s of one ticket + queue polls > the "
        f"{AWS_API_RPS:,} rps account default: raise it (or sell 2+ tickets an order)"
    )
    lines.append(f"Lambda: {target:,} req/s x ~50 ms = {target * 0.05:,.0f} concurrent of the "
                 f"{AWS_LAMBDA_CONCURRENCY:,} default, scaling +1,000 per 10 s: provisioned "
                 "concurrency for the API function before opens_at")  # fmt: skip
    return {"key_ceiling": key_ceiling, "table_ceiling": table_ceiling,
            "shards_for_target": shards_needed, "arithmetic": lines,
            "within_default_table_quota": table_ceiling >= target}  # fmt: skip


def main() -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(Path(tmp) / "stack.log",
                      extra_env={"RATE_LIMITS": "off", "DYNAMODB_LIMITS": LIMITS}) as stack,
    ):  # fmt: skip
        sale = Sale(stack)
        rushes = {}
        for shards in SHARDS:
            before = _cpu_times()
            rushes[str(shards)] = sale.rush(shards)
            rushes[str(shards)]["machine_cpu"] = _busy_since(before)
            print(f"rush S={shards}: {rushes[str(shards)]['tickets_per_s']:.1f}/s", file=sys.stderr)
        queued = {}
        for shards in SHARDS:
            sale.model(LIMITS)
            rate = max(1, int(rushes[str(shards)]["tickets_per_s"] * PACE))
            queued[str(shards)] = sale.queued(shards, rate)
            print(f"queued S={shards}: {queued[str(shards)]['fairness']:.3f}", file=sys.stderr)
        seeded = []
        for seed in range(1, SEEDED + 1):
            seeded.append(sale.seeded(seed))
            print(f"seeded {seed}: {seeded[-1]}", file=sys.stderr)
    return {"limits": LIMITS, "rush": rushes, "queued": queued, "seeded": seeded,
            "aws": extrapolate(rushes[str(SHARDS[-1])])}  # fmt: skip


def _cpu_times() -> tuple[int, int]:
    """The machine's (busy, total) CPU ticks so far, from /proc/stat (every process: the
    stack's and the buyers')."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _busy_since(before: tuple[int, int]) -> float:
    busy, total = _cpu_times()
    return (busy - before[0]) / max(1, total - before[1])


def show(found: dict[str, Any]) -> None:
    print(f"\n== On-sale rush under DYNAMODB_LIMITS={found['limits']} " + "=" * 30)
    print(f"{'S':>3}{'tickets/s':>10}{'x S=1':>7}{'throttles':>10}{'conflicts':>10}{'retries':>8}"
          f"{'p50 ms':>8}{'p99 ms':>8}{'sold':>6}{'oversold':>9}{'stranded':>9}{'cpu':>6}"
          f"{'fairness*':>10}")  # fmt: skip
    base = found["rush"][str(SHARDS[0])]["tickets_per_s"] or 1
    for shards, r in found["rush"].items():
        q = found["queued"][shards]
        print(f"{shards:>3}{r['tickets_per_s']:>10.1f}{r['tickets_per_s'] / base:>7.1f}"
              f"{r['throttles']:>10}{r['conflicts']:>10}{r['retries']:>8}{r['p50_ms']:>8.0f}"
              f"{r['p99_ms']:>8.0f}{r['sold']:>6}{r['oversold']:>9}{r['stranded']:>9}"
              f"{r['machine_cpu']:>6.0%}{q['fairness']:>10.3f}")  # fmt: skip
    print(
        f"* {QUEUED}+ buyers ({QUEUED_S} s of admissions) through the on-sale queue, admitted"
        " at half that S's rush rate, each buying when its turn comes"
    )
    print(f"\n== {SEEDED} seeded runs (random S, throttling, conflicts; a tail of singles) ==")
    print(f"{'seed':>5}{'S':>4}{'capacity':>9}{'throttle':>9}{'conflict':>9}{'sold':>6}"
          f"{'oversold':>9}{'stranded':>9}{'adds up':>8}{'faults':>8}")  # fmt: skip
    for r in found["seeded"]:
        print(f"{r['seed']:>5}{r['shards']:>4}{r['capacity']:>9}{r['throttle_rate']:>9.3f}"
              f"{r['conflict_rate']:>9.3f}{r['sold']:>6}{r['oversold']:>9}{r['stranded']:>9}"
              f"{'yes' if r['adds_up'] else 'NO':>8}"
              f"{r['throttles'] + r['conflicts']:>8}")  # fmt: skip
    print("\n== The same design at AWS's limits " + "=" * 40)
    for line in found["aws"]["arithmetic"]:
        print(f"  {line}")


def passed(found: dict[str, Any]) -> bool:
    every = [*found["rush"].values(), *found["seeded"]]
    return all(r["oversold"] == 0 and r["stranded"] == 0 for r in every) and all(
        r["adds_up"] for r in found["seeded"]
    )


if __name__ == "__main__":
    outcome = main()
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(outcome, indent=2))
    show(outcome)
    print(f"\nwritten to {OUT.relative_to(PROJECT)}")
    sys.exit(0 if passed(outcome) else 1)
