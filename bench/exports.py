"""Exporting an event's orders: peak memory for 100 and for 10,000 orders, in one run.

Each size is exported in a fresh process (so one size's allocations cannot hide another's),
as CSV and as XLSX, against moto running as a server in a process of its own: the emulator's
memory is not the function's. The peak is tracemalloc's, i.e. what the exporting process
allocated while rows were read and written. Prints JSON for `python -m bench`.

    python -m bench.exports            # both sizes
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

from bench.settings import BENCH_ENV

SIZES = (100, 10_000)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _emulator() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        import requests

        for _ in range(200):
            try:
                requests.get(f"{url}/moto-api/", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _one(size: int) -> dict[str, float]:
    with _emulator() as url:
        os.environ.update(BENCH_ENV, TABLE_PREFIX="bench-", AWS_ENDPOINT_URL=url)
        from chalicelib.auth.principal import Principal
        from chalicelib.db.base import new_id, utcnow
        from chalicelib.db.buyers import Buyer
        from chalicelib.db.orders import PAID, Order, OrderLine
        from chalicelib.db.tables import create_tables
        from chalicelib.db.tickets import Holder
        from chalicelib.export_files import create_bucket
        from chalicelib.services.sales import exports
        from tests.conftest import make_event, make_user

        create_tables()
        create_bucket()
        organizer = make_user("organizer")
        event_id = make_event(organizer, number_of_tickets=size * 2)
        now = utcnow()
        with Buyer.batch_write() as batch:
            batch.save(Buyer(id="bulk", name="Bulk", email="bulk@example.com",
                             phone="+442079460958"))  # fmt: skip
        with Order.batch_write() as batch:
            for i in range(size):
                batch.save(Order(
                    id=new_id(), event_id=event_id, seller_id=organizer.id,
                    organizer_id=organizer.id, buyer_id="bulk",
                    holder=Holder(name=f"Buyer {i}", phone="+442079460958"), status=PAID,
                    items=[OrderLine(ticket_type_id=event_id, name="General admission",
                                     quantity=1, unit_price_minor=5000)],
                    total_minor=5000, currency_code="GBP", created_at=now, paid_at=now,
                    paid_minor=5000,
                ))  # fmt: skip
        actor = Principal(user_id=organizer.id, role="organizer")
        out: dict[str, float] = {}
        for fmt in ("csv", "xlsx"):
            tracemalloc.start()
            started = time.perf_counter()
            made = exports.export_orders(actor=actor, event_id=event_id, fmt=fmt)
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            assert made.rows == size, made.rows
            out[f"{fmt}_peak_mb"] = peak / 2**20
            out[f"{fmt}_s"] = elapsed
        return out


def main() -> int:
    if len(sys.argv) > 1:
        print(json.dumps(_one(int(sys.argv[1]))))
        return 0
    results = {}
    for size in SIZES:
        done = subprocess.run([sys.executable, "-m", "bench.exports", str(size)],
                              capture_output=True, text=True, check=True)  # fmt: skip
        results[str(size)] = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
