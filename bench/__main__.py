"""`make bench`: cold start, warm CPU, DynamoDB work, AWS cost and local load, in one table.

Each section runs in its own process (a fresh interpreter per measurement where imports
matter), all in the same run, so every ratio compares figures taken on the same machine at the
same time. The whole result is written to build/bench.json. Timings never go into tests; the
call counts this prints are also asserted by tests, where they are deterministic.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import aws_costs, cold_start

PROJECT = Path(__file__).resolve().parents[1]
OUT = PROJECT / "build" / "bench.json"


def _section(module: str, *args: str) -> dict[str, Any]:
    """Run `python -m bench.<module>`; its JSON is the last line of its output (the local
    stack prints emails before it)."""
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"bench.{module} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _rule(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 92 - len(title)))


def show_cold(cold: dict[str, float]) -> None:
    _rule("1. Cold start: import time, median of fresh processes")
    floor = cold["floor"]
    labels = {
        "floor": "floor: import chalice.app, botocore.session",
        "app": "API function: import app",
        "authorizer": "authorizer: import chalicelib.auth.authorizer",
        "first_request": "API function: import app + a first booking's 400",
    }
    for name, label in labels.items():
        print(f"{label:<58}{cold[name] * 1000:8.0f} ms {cold[name] / floor:8.2f}x floor")


def show_cpu(cpu: dict[str, Any]) -> None:
    _rule("2. Warm handler: CPU per request in the API process (emulator's CPU excluded)")
    print(f"{'request':<40}{'CPU ms':>10}{'x no-op':>10}{'wall ms':>10}")
    for name, f in cpu["operations"].items():
        print(f"{name:<40}{f['cpu_ms']:>10.2f}{f['x_noop']:>10.1f}{f['wall_ms']:>10.1f}")


def show_costs(costs: dict[str, Any]) -> None:
    sizes = costs["sizes"]
    _rule(f"3. DynamoDB per request: small ({sizes['small']}) -> large ({sizes['large']})")
    print(f"{'request':<34}{'calls':>8}{'items':>12}{'read units':>14}{'write units':>13}"
          f"{'ratio':>7}{'Stripe':>7}")  # fmt: skip
    for name, sized in costs["operations"].items():
        s, lg = sized["small"], sized["large"]
        units_small = s["read_units"] + s["write_units"]
        ratio = (lg["read_units"] + lg["write_units"]) / units_small if units_small else 1.0
        print(f"{name:<34}{s['calls']:>3} -> {lg['calls']:<2}{s['items']:>5} -> {lg['items']:<4}"
              f"{s['read_units']:>6.1f} -> {lg['read_units']:<5.1f}"
              f"{s['write_units']:>5.1f} -> {lg['write_units']:<5.1f}{ratio:>6.2f}"
              f"{lg.get('stripe_calls', 0):>7}")  # fmt: skip


def aws(costs: dict[str, Any], cpu: dict[str, Any]) -> dict[str, Any]:
    ops, cpu_ops = costs["operations"], cpu["operations"]
    booking_cpu = cpu_ops["book 1"]["cpu_ms"]
    request = aws_costs.per_million(ops["book 1"]["large"], booking_cpu, 0)
    # The consumer queues the email (its CPU is counted with the worker's, which builds it).
    confirmation = aws_costs.combined(
        aws_costs.per_million(
            ops["sale announced (stream consumer)"]["large"], 0, 0, through_gateway=False,
            queued=1,
        ),
        aws_costs.per_million(
            ops["confirmation email (worker)"]["large"],
            cpu_ops["confirmation (consumer + worker)"]["cpu_ms"], 1, through_gateway=False,
        ),
    )  # fmt: skip
    # A card-paid order, as a buyer makes it: the order (its PaymentIntent), the checkout's
    # payment (settled from Stripe's answer), Stripe's webhook arriving after (a read: already
    # done) and the confirmation. CPU is not measured per step: each is taken as a booking's.
    online = [ops["order 2 (held, online event)"]["large"], ops["pay on the checkout (card)"][
        "large"], {**ops["Stripe webhook (order paid)"]["large"], "calls": 1, "read_units": 0.5,
                  "write_units": 0.0}]  # fmt: skip
    paid_order = aws_costs.combined(
        *(aws_costs.per_million(cost, booking_cpu, 0) for cost in online), confirmation
    )
    return {
        "per_million_card_paid_orders": paid_order,
        "stripe_calls_per_card_paid_order": sum(c.get("stripe_calls", 0) for c in online),
        "per_million_booking_requests": request,
        "per_million_booking_confirmations": confirmation,
        "per_million_bookings": aws_costs.combined(request, confirmation),
        "per_million_sold_out_refusals": aws_costs.per_million(
            ops["book (refused: sold out)"]["large"], booking_cpu, 0
        ),
        "max_bookings_per_second_one_event": aws_costs.max_bookings_per_second(
            aws_costs.pool_write_units(), resellers=10
        ),
        "prices": aws_costs.PRICES,
    }


def show_aws(priced: dict[str, Any]) -> None:
    prices = priced["prices"]
    _rule(f"4. On AWS ({prices['region']}, list prices {prices['as_of']})")
    print(f"{'$ per million':<34}{'API GW':>9}{'Lambda':>9}{'DynamoDB':>10}{'SES':>9}"
          f"{'SQS':>7}{'total':>9}{'Lambda ms':>11}")  # fmt: skip
    for label, key in (("booking requests (1 ticket)", "per_million_booking_requests"),
                       ("their confirmations (stream)", "per_million_booking_confirmations"),
                       ("bookings, in all", "per_million_bookings"),
                       ("sold-out refusals", "per_million_sold_out_refusals"),
                       ("card-paid orders (2 tickets)", "per_million_card_paid_orders"),
                       ):  # fmt: skip
        d = priced[key]
        print(f"{label:<34}{d['api_gateway']:>9.2f}{d['lambda']:>9.2f}{d['dynamodb']:>10.2f}"
              f"{d['ses']:>9.2f}{d['sqs']:>7.2f}{d['total']:>9.2f}"
              f"{d['lambda_ms_estimated']:>11.1f}")  # fmt: skip
    print(
        f"a card-paid order also makes {priced['stripe_calls_per_card_paid_order']} Stripe API "
        "calls (free); Stripe's own fee per payment comes on top (by country and card)"
    )
    print("max one-ticket bookings/s for one event (DynamoDB partition write limit):")
    for label, rate in priced["max_bookings_per_second_one_event"].items():
        print(f"  {label:<60}{rate:>8.0f}/s")


def show_load(load: dict[str, Any]) -> None:
    _rule(f"5. Local stack (make run, RATE_LIMITS=off), {load['seconds_per_run']:.0f} s per run")
    print(f"{'workload':<42}{'clients':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, by_clients in load["workloads"].items():
        for clients, r in by_clients.items():
            print(f"{name:<42}{clients:>8}{r['rps']:>9.1f}{r['p50_ms']:>9.0f}{r['p99_ms']:>9.0f}"
                  f"{r['errors']:>8}")  # fmt: skip
    sizes = load["booking_by_sold"]
    print(f"one booking, p50: {sizes['p50_ms_at_10_sold']:.0f} ms at 10 sold, "
          f"{sizes['p50_ms_at_10000_sold']:.0f} ms at 10,000 sold "
          f"(ratio {sizes['ratio']:.2f})")  # fmt: skip
    access = load["buyer_access"]
    print(f"POST /buyer-access, p50 of {access['tries']}: {access['holder_p50_ms']:.1f} ms for a "
          f"ticket holder, {access['stranger_p50_ms']:.1f} ms for a stranger "
          f"(ratio {access['ratio']:.2f}; the email is queued either way)")  # fmt: skip
    cpu = load["cpu_per_booking"]
    shares = ", ".join(f"{name} {ms:.1f} ms" for name, ms in cpu["cpu_ms_per_booking"].items())
    idle = ", ".join(f"{name} {share:.0%}" for name, share in cpu["idle_cpu_share"].items())
    print(f"CPU per booking at 1 client ({cpu['bookings_per_s']:.0f}/s), by process: {shares}; "
          f"idle, the pollers keep: {idle} of a core")  # fmt: skip


def show_exports(exported: dict[str, Any]) -> None:
    _rule("Exports: peak Python memory while writing an event's orders (tracemalloc)")
    small, large = exported["100"], exported["10000"]
    print(
        f"{'format':<10}{'100 orders':>14}{'10,000 orders':>16}{'difference':>14}{'10,000 s':>10}"
    )
    for fmt in ("csv", "xlsx"):
        a, b = small[f"{fmt}_peak_mb"], large[f"{fmt}_peak_mb"]
        print(f"{fmt:<10}{a:>11.1f} MB{b:>13.1f} MB{b - a:>11.1f} MB{large[f'{fmt}_s']:>10.1f}")


def main() -> int:
    began = time.monotonic()
    print("cold start ...", flush=True)
    cold = cold_start.measure(runs=15)
    print("warm CPU ...", flush=True)
    cpu = _section("cpu")
    print("DynamoDB costs ...", flush=True)
    costs = _section("costs")
    print("exports (100 and 10,000 orders) ...", flush=True)
    exported = _section("exports")
    print("local load (about 4 minutes) ...", flush=True)
    load = _section("load")
    priced = aws(costs, cpu)
    show_cold(cold)
    show_cpu(cpu)
    show_costs(costs)
    show_aws(priced)
    show_exports(exported)
    show_load(load)
    result = {"cold_start_s": cold, "warm_cpu": cpu, "dynamodb": costs, "aws": priced,
              "exports": exported, "local_load": load,
              "seconds": time.monotonic() - began}  # fmt: skip
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    print(f"\nwritten to {OUT.relative_to(PROJECT)} in {result['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
