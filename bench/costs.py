"""`make bench`: what one request costs in DynamoDB work while the tables grow.

Time is the wrong measure here: moto deep-copies a table on every transaction, so the emulator
slows down with table size where DynamoDB does not (DESIGN.md). What DynamoDB bills and limits
is calls and items read or written, so that is what this counts, for the same request against
a small and a large table, measured in the same run. A ratio of 1.00 means the request's cost
does not grow with the data.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

os.environ.update(
    STAGE="dev",
    TABLE_PREFIX="bench-",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    JWT_SECRET="bench-secret-bench-secret-bench-secret",
    APP_URL="http://bench.test",
    SES_SENDER="tickets@example.com",
    ADMIN_EMAIL="admin@example.com",
    ADMIN_PASSWORD="bench-admin-password",
    # The app's own work per request; each abuse limit adds one conditional UpdateItem
    # (an anonymous booking: two, the address and the recipient).
    RATE_LIMITS="off",
)
os.environ.pop("AWS_ENDPOINT_URL", None)

from chalice.test import Client
from moto import mock_aws

from app import app
from chalicelib.auth.tokens import issue_token
from chalicelib.bootstrap import bootstrap, verify_sender
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import _shared_connection, new_id
from chalicelib.db.bookings import Ticket
from chalicelib.db.events import Event
from chalicelib.services.users import find_by_email, new_user, save_new_user
from chalicelib.settings import get_settings


class Meter:
    """Counts DynamoDB calls and the items each one reads or writes."""

    def __init__(self) -> None:
        self.calls = 0
        self.items = 0
        self._params: dict = {}

    def before(self, params: dict, **_: Any) -> None:
        self._params = params

    def after(self, model: Any, parsed: dict, **_: Any) -> None:
        self.calls += 1
        if "ScannedCount" in parsed:
            self.items += parsed["ScannedCount"]
        elif model.name == "TransactWriteItems":
            self.items += len(self._params.get("TransactItems", []))
        elif model.name == "BatchGetItem":
            self.items += sum(len(v) for v in parsed.get("Responses", {}).values())
        else:
            self.items += 1


def measure(request: Callable[[], Any]) -> tuple[int, int]:
    meter = Meter()
    events = _shared_connection().client.meta.events
    events.register("before-parameter-build.dynamodb.*", meter.before)
    events.register("after-call.dynamodb.*", meter.after)
    try:
        response = request()
    finally:
        events.unregister("before-parameter-build.dynamodb.*", meter.before)
        events.unregister("after-call.dynamodb.*", meter.after)
    assert response.status_code < 300, response.body
    return meter.calls, meter.items


def add_events(organizer_id: str, count: int) -> None:
    when = datetime.now(UTC) + timedelta(days=30)
    with Event.batch_write() as events, Allocation.batch_write() as pools:
        for i in range(count):
            event_id = new_id()
            events.save(Event(id=event_id, title=f"Event {i}", time=when + timedelta(minutes=i),
                              price_minor=1000, currency_code="EUR", number_of_tickets=100,
                              organizer_id=organizer_id, seller_ids={organizer_id}))  # fmt: skip
            pools.save(Allocation(event_id=event_id, seller_id=organizer_id,
                                  seller_role="organizer", number_of_tickets=100,
                                  available=100, on_sale=True))  # fmt: skip


def add_sold_tickets(event: Event, count: int) -> None:
    with Ticket.batch_write() as batch:
        for _ in range(count):
            ticket = Ticket(
                id=new_id(),
                event_id=event.id,
                seller_id=event.organizer_id,
                organizer_id=event.organizer_id,
                buyer_id="bulk",
                code="BULK",
                price_minor=event.price_minor,
                currency_code=event.currency_code,
            )
            batch.save(ticket)
    Allocation(event_id=event.id, seller_id=event.organizer_id).update(
        actions=[Allocation.sold.add(count), Allocation.available.add(-count)]
    )


def main() -> int:
    rows = []
    with mock_aws():
        bootstrap(get_settings(), create_missing_tables=True)
        verify_sender(get_settings())
        organizer = new_user(email="bench-org@example.com", password_hash=None, name="Org",
                             role="organizer", verified=True)  # fmt: skip
        save_new_user(organizer)
        admin = find_by_email("admin@example.com")
        org_auth = {"Authorization": "Bearer " + issue_token(user_id=organizer.id,
                    role="organizer", token_version=0).auth_token}  # fmt: skip
        admin_auth = {"Authorization": "Bearer " + issue_token(user_id=admin.id, role="admin",
                      token_version=admin.token_version).auth_token}  # fmt: skip
        with Client(app, stage_name="dev") as client:
            http = client.http
            created = http.post(
                "/events",
                headers={**org_auth, "Content-Type": "application/json"},
                body='{"title": "Big", "time": "2031-01-01", "price": "10", '
                '"currency_code": "EUR", "number_of_tickets": 50000}',
            )
            big = Event.get(created.json_body["event"]["id"])
            buyers = iter(range(1_000_000))

            def book() -> Any:
                # A new buyer each time, so both sizes do the same work (create, not update).
                body = json.dumps(
                    {
                        "event_id": big.id,
                        "buyer": {
                            "name": "B",
                            "email": f"b{next(buyers)}@example.com",
                            "phone": "+442079460958",
                        },
                    }
                )
                return http.post("/sold-tickets", body=body,
                                 headers={"Content-Type": "application/json"})  # fmt: skip

            scenarios = [
                ("POST /sold-tickets (1 ticket)", "sold", book),
                ("GET /events?limit=50", "events", lambda: http.get("/events?limit=50")),
                ("GET /sold-tickets?limit=50 (organizer)", "sold",
                 lambda: http.get("/sold-tickets?limit=50", headers=org_auth)),
                ("GET /sold-tickets?limit=50 (admin)", "sold",
                 lambda: http.get("/sold-tickets?limit=50", headers=admin_auth)),
            ]  # fmt: skip
            add_sold_tickets(big, 100)
            add_events(organizer.id, 100)
            small = {name: measure(run) for name, _, run in scenarios}
            add_sold_tickets(big, 9_900)
            add_events(organizer.id, 1_900)
            large = {name: measure(run) for name, _, run in scenarios}
            for name, grows, _ in scenarios:
                size = ("~100", "~10,000") if grows == "sold" else ("~100", "~2,000")
                rows.append((name, grows, size, small[name], large[name]))

    print(f"\n{'request':<40}{'table rows':>20}{'calls':>12}{'items':>14}{'ratio':>8}")
    worst = 0.0
    for name, grows, (s, lg), (c1, i1), (c2, i2) in rows:
        ratio = i2 / i1
        worst = max(worst, ratio)
        label = f"{grows} {s} -> {lg}"
        print(f"{name:<40}{label:>20}{f'{c1} -> {c2}':>12}{f'{i1} -> {i2}':>14}{ratio:>8.2f}")
    print(f"\nworst ratio large/small: {worst:.2f} (1.00 = cost independent of table size)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
