"""DynamoDB work per request, on small and on large tables, measured in one run.

What DynamoDB bills and limits is calls, items and capacity units, so that is what this counts
(bench/meter.py) for the same request against small tables and again after they grew: about
100 -> 10,000 sold tickets (per event measured), 10 -> 1,000 held orders not yet due and
100 -> 2,000 events. A ratio of 1.00 means the request's cost does
not grow with the data. Runs in-process against moto; prints JSON for `python -m bench`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.settings import BENCH_ENV, STRIPE_PORT

os.environ.update(BENCH_ENV, TABLE_PREFIX="bench-")
os.environ.pop("AWS_ENDPOINT_URL", None)

from chalice.test import Client
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from app import app
from bench.meter import Cost, metered
from bench.seed import add_events, add_orders, add_sold_tickets, bearer
from chalicelib.auth.principal import authenticate
from chalicelib.bootstrap import bootstrap, verify_sender
from chalicelib.db.events import Event
from chalicelib.payments import stripe_api
from chalicelib.services.accounts.users import find_by_email, new_user, save_new_user
from chalicelib.services.sales import orders
from chalicelib.settings import get_settings
from devstack import transactions
from devstack.stripe_server import running

PASSWORD = "bench-password-1"
LINK = re.compile(r"/activate/([A-Za-z0-9_-]+)")
JSON = {"Content-Type": "application/json"}


def last_activation_token() -> str:
    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    message = backend.sent_messages[-1]
    return LINK.findall(str(getattr(message, "body", "")))[-1]


class Scenarios:
    """Each operation as a fresh request (new emails, new events) so every size does the same
    work: a booking creates a new buyer each time, a registration a new account."""

    def __init__(self, http: Any) -> None:
        self.http = http
        self.n = 0
        admin = find_by_email("admin@example.com")
        self.organizer = self._user("organizer")
        self.reseller = self._user("reseller")
        self.admin_auth = bearer(admin)
        self.org_auth = bearer(self.organizer)
        self.reseller_auth = bearer(self.reseller)
        created = self.post("/events", self._event_body(50_000), self.org_auth)
        self.big = Event.get(created["event"]["id"])
        path = f"/events/{self.big.id}/allocations/{self.reseller.id}"
        self.call("put", path, {"number_of_tickets": 100}, self.org_auth)
        self.sold_out = self.post("/events", self._event_body(1), self.org_auth)["event"]["id"]
        self.call("post", "/sold-tickets", {"event_id": self.sold_out, "buyer": self._buyer()})
        # Two ticket types on one capacity, and an event whose orders hold stock for a minute.
        typed = self.post("/events", self._event_body(50_000), self.org_auth)["event"]["id"]
        self.typed = Event.get(typed)
        vip = {"name": "VIP", "price": "90", "quantity": 20_000}
        self.vip = self.post(f"/events/{typed}/ticket-types", vip, self.org_auth)["ticket_type"]
        held = {**self._event_body(50_000), "payment": "online", "hold_minutes": 1}
        self.held = Event.get(self.post("/events", held, self.org_auth)["event"]["id"])

    def _buyer(self) -> dict[str, str]:
        return {"name": "B", "email": f"b{self._next()}@example.com", "phone": "+442079460958"}

    def _user(self, role: str) -> Any:
        user = new_user(email=f"bench-{role}@example.com", password_hash=None, name=role,
                        role=role, verified=True)  # fmt: skip
        save_new_user(user)
        return user

    def _next(self) -> int:
        self.n += 1
        return self.n

    @staticmethod
    def _event_body(tickets: int) -> dict[str, Any]:
        return {"title": "Big", "time": "2031-01-01", "price": "10", "currency_code": "EUR",
                "number_of_tickets": tickets}  # fmt: skip

    def post(self, path: str, body: Any, headers: dict | None = None) -> Any:
        return self.call("post", path, body, headers).json_body

    def call(self, method: str, path: str, body: Any = None, headers: dict | None = None) -> Any:
        kwargs: dict[str, Any] = {"headers": {**JSON, **(headers or {})}}
        if body is not None:
            kwargs["body"] = json.dumps(body)
        response = getattr(self.http, method)(path, **kwargs)
        if response.status_code >= 300:
            raise RuntimeError(f"{method.upper()} {path}: {response.status_code} {response.body}")
        return response

    def registered_email(self) -> str:
        email = f"reg{self._next()}@example.com"
        self.call("post", "/register", {"email": email, "password": PASSWORD, "role": "reseller"})
        return email

    def operations(self) -> dict[str, Callable[[], Any]]:
        def book(quantity: int) -> Callable[[], Any]:
            def run() -> Any:
                body = {"event_id": self.big.id, "quantity": quantity, "buyer": self._buyer()}
                return self.call("post", "/sold-tickets", body)

            return run

        def register() -> Any:
            email = f"new{self._next()}@example.com"
            body = {"email": email, "password": PASSWORD, "role": "reseller"}
            return self.call("post", "/register", body)

        prepared: dict[str, Any] = {}

        def activate() -> Any:
            return self.call("get", f"/activate/{prepared.pop('token')}")

        def login_right() -> Any:
            return self.call("post", "/login", {"email": prepared["verified"],
                                                "password": PASSWORD})  # fmt: skip

        def login_wrong() -> Any:
            # A fresh account each time: three wrong ones in a row would block it.
            body = json.dumps({"email": prepared.pop("wrong"), "password": "wrong-pass"})
            response = self.http.post("/login", headers=JSON, body=body)
            assert response.status_code == 401, response.body
            return response

        def place(items: list[dict[str, Any]], event_id: str | None = None) -> Callable[[], Any]:
            def run() -> Any:
                body = {"event_id": event_id or self.typed.id, "items": items,
                        "buyer": self._buyer()}  # fmt: skip
                return self.call("post", "/orders", body)

            return run

        typed, vip = self.typed.id, self.vip["id"]

        def sweep() -> Any:
            return orders.sweep(prepared.pop("due") + timedelta(seconds=1))

        def refused_sold_out() -> Any:
            body = json.dumps({"event_id": self.sold_out, "buyer": self._buyer()})
            response = self.http.post("/sold-tickets", headers=JSON, body=body)
            assert response.status_code == 409, response.body
            return response

        def cancel() -> Any:
            return self.call("delete", f"/sold-tickets/{prepared.pop('ticket')}", None,
                             self.admin_auth)  # fmt: skip

        def set_allocation() -> Any:
            share = {"number_of_tickets": 100 + self._next()}
            return self.call("put", f"/events/{self.big.id}/allocations/{self.reseller.id}",
                             share, self.org_auth)  # fmt: skip

        def online_order() -> dict[str, Any]:
            return place([{"quantity": 2}], self.held.id)().json_body

        def pay() -> Any:
            placed = prepared.pop("to_pay")
            body = {"card_token": prepared.pop("card")}
            return self.call("post", f"/orders/{placed['order']['id']}/pay", body,
                             {"Authorization": f"Bearer {placed['order_token']}"})  # fmt: skip

        def stripe_webhook() -> Any:
            body = prepared.pop("webhook")
            response = self.http.post("/payments/stripe", body=body[0], headers={
                **JSON, "Stripe-Signature": body[1]})  # fmt: skip
            assert response.json_body["outcome"] == "paid", response.body
            return response

        def refund_ticket() -> Any:
            order_id, ticket_id = prepared.pop("refund")
            return self.call("post", f"/orders/{order_id}/refunds", {"ticket_ids": [ticket_id]},
                             self.org_auth)  # fmt: skip

        def prepare() -> None:
            """Inputs some operations consume, made outside the measurement."""
            self.registered_email()
            prepared["token"] = last_activation_token()
            verified = self.registered_email()
            self.call("get", f"/activate/{last_activation_token()}")
            prepared["verified"] = verified
            wrong = self.registered_email()
            self.call("get", f"/activate/{last_activation_token()}")
            prepared["wrong"] = wrong
            prepared["ticket"] = book(1)().json_body["tickets"][0]["id"]
            # Earlier holds end first, so the sweep measured ends exactly one.
            orders.sweep(datetime.now(UTC) + timedelta(minutes=2))
            held = place([{"quantity": 1}], self.held.id)().json_body["order"]
            prepared["due"] = datetime.fromisoformat(held["expires_at"])
            # Card payments: an order to pay on its checkout, one paid at Stripe whose webhook
            # comes, one paid whose ticket is refunded.
            prepared["to_pay"], prepared["card"] = online_order(), card_token()
            unsettled = online_order()["order"]
            intent_id = unsettled["payment"]["client_secret"].split("_secret_")[0]
            stripe_api.pay_with_card(intent_id, card_token())
            intent = stripe_api._client().v1.payment_intents.retrieve(intent_id).to_dict()
            payload = json.dumps(
                {
                    "id": f"evt_bench{self._next()}",
                    "type": "payment_intent.succeeded",
                    "data": {"object": intent},
                }
            )
            prepared["webhook"] = (payload, _signature(payload))
            paid = online_order()
            done = self.call(
                "post",
                f"/orders/{paid['order']['id']}/pay",
                {"card_token": card_token()},
                {"Authorization": f"Bearer {paid['order_token']}"},
            ).json_body
            prepared["refund"] = (done["order"]["id"], done["order"]["tickets"][0]["id"])

        self.prepare = prepare
        get = self.call
        big, org, adm, res = self.big.id, self.org_auth, self.admin_auth, self.reseller_auth
        return {
            "register": register,
            "activate": activate,
            "login (right password)": login_right,
            "login (wrong password)": login_wrong,
            "create event": lambda: get("post", "/events", self._event_body(100), org),
            "set allocation": set_allocation,
            "book 1": book(1),
            "book 10": book(10),
            "book (refused: sold out)": refused_sold_out,
            "order 1 (event of 2 types)": place([{"ticket_type_id": typed, "quantity": 1}]),
            "order 10 across 2 types": place(
                [{"ticket_type_id": typed, "quantity": 5}, {"ticket_type_id": vip, "quantity": 5}]
            ),
            # Before the sweep, which would end these holds (made within its second).
            "pay on the checkout (card)": pay,
            "Stripe webhook (order paid)": stripe_webhook,
            "refund 1 ticket (card)": refund_ticket,
            "expiry sweep (1 order due)": sweep,
            "order 2 (held, online event)": place([{"quantity": 2}], self.held.id),
            "GET /events/{id}/ticket-types": lambda: get("get", f"/events/{typed}/ticket-types"),
            "cancel ticket": cancel,
            "GET /events (page of 50)": lambda: get("get", "/events?limit=50"),
            "GET /events/{id}/offers": lambda: get("get", f"/events/{big}/offers"),
            "GET /events/{id}/allocations": lambda: get(
                "get", f"/events/{big}/allocations", None, org
            ),
            "GET /allocations": lambda: get("get", "/allocations?limit=50", None, res),
            "GET /sold-tickets (admin)": lambda: get("get", "/sold-tickets?limit=50", None, adm),
            "GET /sold-tickets (organizer)": lambda: get(
                "get", "/sold-tickets?limit=50", None, org
            ),
            "GET /events/{id}/report": lambda: get("get", f"/events/{big}/report", None, org),
            "GET /buyers": lambda: get("get", "/buyers?limit=50", None, adm),
            "GET /users": lambda: get("get", "/users?limit=50", None, adm),
        }


def card_token() -> str:
    """A card tokenised at the local Stripe, as Stripe.js does in the buyer's browser."""
    import requests

    response = requests.post(
        f"{BENCH_ENV['STRIPE_API_URL']}/v1/tokens",
        data={"card[number]": "4242424242424242", "card[exp_month]": "12",
              "card[exp_year]": "2030", "card[cvc]": "123", "key": "pk_test_local"},
        timeout=10,
    )  # fmt: skip
    response.raise_for_status()
    return response.json()["id"]


def _signature(payload: str) -> str:
    import hashlib
    import hmac
    import time

    at = int(time.time())
    secret = BENCH_ENV["STRIPE_WEBHOOK_SECRET"].encode()
    digest = hmac.new(secret, f"{at}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def measure_all(scenarios: Scenarios, operations: dict[str, Callable[[], Any]]) -> dict:
    results: dict[str, Cost] = {}
    scenarios.prepare()
    for name, run in operations.items():
        with metered() as meter:
            run()
        results[name] = meter.cost
    # The stream consumer and the side-effects worker are Lambdas of their own: what one sale
    # costs them, with one webhook subscribed (its endpoint answers 204 at once).
    from chalicelib.db.changes import Change
    from chalicelib.db.deliveries import Delivery
    from chalicelib.services.stream import announcements, endpoints, webhook_deliveries

    endpoints.resolve = lambda host: ["93.184.215.14"]
    endpoints.post = lambda target, body, headers, timeout_s: 204
    if not hasattr(scenarios, "hook_id"):  # one webhook, at every size
        hook = {"url": "https://hooks.example.com/sales", "events": ["ticket.sold"]}
        scenarios.hook_id = scenarios.post("/webhooks", hook, scenarios.org_auth)["webhook"]["id"]
    hook_id = scenarios.hook_id
    ticket_id = operations["book 1"]().json_body["tickets"][0]["id"]
    [sale] = [c for c in Change.scan() if c.type == "ticket.sold"
              and ticket_id in c.data["ticket_ids"]]  # fmt: skip
    with metered() as meter:
        announcements.handle(sale)
    results["sale announced (stream consumer)"] = meter.cost
    with metered() as meter:
        announcements.send_email(sale)
    results["confirmation email (worker)"] = meter.cost
    delivery = Delivery.get(f"{sale.id}:{hook_id}")
    with metered() as meter:
        assert webhook_deliveries.attempt_queued(delivery.id, 0) == 204
    results["webhook attempt, 2xx (worker)"] = meter.cost
    # The authorizer is its own Lambda, left out of the requests above: metered on its own.
    with metered(count_authorizer=True) as meter:
        authenticate(scenarios.org_auth["Authorization"])
    results["authorizer"] = meter.cost
    return {name: cost.as_dict() for name, cost in results.items()}


def main() -> dict[str, Any]:
    transactions.install()  # whole-table copies would only cost time here, not change counts
    with running(STRIPE_PORT), mock_aws():
        bootstrap(get_settings(), create_missing_tables=True)
        verify_sender(get_settings())
        with Client(app, stage_name="dev") as client:
            scenarios = Scenarios(client.http)
            operations = scenarios.operations()
            later = datetime.now(UTC) + timedelta(minutes=30)
            for size in (100, 9_900):
                add_sold_tickets(scenarios.big, size)
                for ticket_type in (scenarios.typed.id, scenarios.vip["id"]):
                    add_sold_tickets(scenarios.typed, size // 2, ticket_type)
                # Holds not yet due: the sweep must not pay for them.
                add_orders(scenarios.held, size // 10, reserved_until=later)
                add_events(scenarios.organizer.id, 100 if size == 100 else 1_900)
                if size == 100:
                    small = measure_all(scenarios, operations)
            large = measure_all(scenarios, operations)
    return {
        "sizes": {
            "small": "~100 sold, ~10 held, ~100 events",
            "large": "~10,000 sold, ~1,000 held, ~2,000 events",
        },
        "operations": {name: {"small": small[name], "large": large[name]} for name in small},
    }


if __name__ == "__main__":
    print("\n" + json.dumps(main()))
