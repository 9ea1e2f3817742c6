"""Each function's IAM policy grants exactly what its code does: a tour through every route
records the DynamoDB and SES calls the API function makes (with botocore's own event hooks, as
the cost benchmark counts them), and the authorizer's calls are recorded the same way."""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from chalicelib import aws
from chalicelib.auth.principal import authenticate
from chalicelib.db.base import _shared_connection
from chalicelib.errors import Unauthorized
from chalicelib.settings import get_settings
from tests.conftest import (
    DEFAULT_PASSWORD,
    admin_user,
    buyer_body,
    consume_stream,
    drain_side_effects,
    drain_stream,
    make_user,
    sent_emails,
)
from tests.deploy.template import policy, resources_of_type, table_base_name
from tests.stripe_fake import card_token, post_event, stripe_get
from tests.stripe_fake import event as stripe_event

Grant = tuple[str, str, str | None]  # (IAM action, table base name, index or None)
HOOK_URL = "https://hooks.example.com/tickets"
GONE_URL = "https://gone.example.com/tickets"
SILENT_URL = "https://silent.example.com/tickets"  # never answers


@pytest.fixture(autouse=True)
def webhook_receivers(monkeypatch):
    """Two public endpoints: one takes deliveries, the other is gone (410)."""
    from chalicelib.services.stream import endpoints
    from tests.conftest import FakeReceivers

    monkeypatch.setattr(endpoints, "resolve", lambda host: ["93.184.215.14"])
    fake = FakeReceivers()
    fake.add(HOOK_URL, 200)
    fake.add(GONE_URL, 410)
    monkeypatch.setattr(endpoints, "post", fake)
    return fake


TRANSACT_ITEMS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def _base(table: str) -> str:
    return table.removeprefix(get_settings().table_prefix)


def grants_of_call(operation: str, params: dict[str, Any]) -> set[Grant]:
    """The IAM permissions one DynamoDB call needs (a transaction needs one per item)."""
    if operation == "TransactWriteItems":
        return {
            (f"dynamodb:{action}", _base(item[kind]["TableName"]), None)
            for item in params["TransactItems"]
            for kind, action in TRANSACT_ITEMS.items()
            if kind in item
        }
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return {(f"dynamodb:{operation}", _base(table), None) for table in params["RequestItems"]}
    return {(f"dynamodb:{operation}", _base(params["TableName"]), params.get("IndexName"))}


_muted = threading.local()


@contextmanager
def muted() -> Iterator[None]:
    """Calls made inside are not recorded (on this thread)."""
    _muted.on = True
    try:
        yield
    finally:
        _muted.on = False


@contextmanager
def recording() -> Iterator[set]:
    seen: set = set()

    def on_dynamodb(params: dict[str, Any], model: Any, **_: Any) -> None:
        if not getattr(_muted, "on", False):
            seen.update(grants_of_call(model.name, params))

    def on_ses(params: dict[str, Any], model: Any, **_: Any) -> None:
        seen.add((f"ses:{model.name}", "*", None))

    hooks = [
        (_shared_connection().client.meta.events, "before-parameter-build.dynamodb.*", on_dynamodb),
        (aws.client("ses").meta.events, "before-parameter-build.ses.*", on_ses),
    ]
    for events, name, hook in hooks:
        events.register(name, hook)
    try:
        yield seen
    finally:
        for events, name, hook in hooks:
            events.unregister(name, hook)


TABLE_RESOURCE = re.compile(r"^\$\{(\w+)\.Arn\}/index/([\w-]+)$")


def policy_grants(function: str) -> set[Grant]:
    """What the function's policy allows on DynamoDB and SES, as (action, table, index)."""
    tables = {
        logical: table_base_name(resource)
        for logical, resource in resources_of_type("AWS::DynamoDB::Table").items()
    }
    grants: set[Grant] = set()
    for statement in policy(function)["Statement"]:
        for action in statement["Action"]:
            service = action.split(":")[0]
            if service == "ses":
                grants.add((action, "*", None))
            if service != "dynamodb":
                continue
            for resource in statement["Resource"]:
                if "Fn::GetAtt" in resource:
                    logical, attribute = resource["Fn::GetAtt"]
                    if attribute == "StreamArn":
                        continue  # Lambda's event source mapping reads the stream, not our code
                    grants.add((action, tables[logical], None))
                else:
                    logical, index = TABLE_RESOURCE.match(resource["Fn::Sub"]).groups()
                    grants.add((action, tables[logical], index))
    return grants


def tour(api, rate_limits, stream=lambda: None) -> None:
    """Every route, down the branches that reach storage differently. `stream` runs where the
    event stream's consumer would have caught up, before what it acts on is deleted."""
    rate_limits()  # the limits' counters are part of what the function writes
    admin = admin_user()
    api.get("/health")
    # accounts
    email = f"tour-{uuid.uuid4().hex[:8]}@example.com"
    api.post("/register", {"email": email, "password": "password1", "role": "organizer"})
    link = re.search(r"/activate/([\w-]+)", sent_emails(drain=False)[-1].body).group(1)
    api.post("/resend-verification", {"email": email})
    api.get(f"/activate/{link}")
    organizer_token = api.post("/login", {"email": email, "password": "password1"})
    organizer_token = organizer_token.json_body["auth_token"]
    api.post("/forgot-password", {"email": email})
    stream()  # links asked for by address go out from the stream
    reset = re.search(r"/reset-password/([\w-]+)", sent_emails(drain=False)[-1].body).group(1)
    api.get(f"/reset-password/{reset}")
    api.post("/reset-password", {"token": reset, "password": "password2"})
    organizer_token = api.post("/login", {"email": email, "password": "password2"})
    organizer_token = organizer_token.json_body["auth_token"]
    api.get("/myself", as_=organizer_token)
    api.put("/myself", {"name": "Org"}, as_=organizer_token)
    # users
    reseller = api.post(
        "/users",
        {"email": f"r-{email}", "password": DEFAULT_PASSWORD, "name": "R", "role": "reseller"},
        as_=admin,
    ).json_body["user"]
    reseller_token = api.post("/login", {"email": f"r-{email}", "password": DEFAULT_PASSWORD})
    reseller_token = reseller_token.json_body["auth_token"]
    for query in ("", "?role=reseller", "?blocked=true"):
        api.get(f"/users{query}", as_=admin)
    doomed = make_user("reseller")
    api.get(f"/users/{doomed.id}", as_=admin)
    api.put(f"/users/{doomed.id}", {"blocked": True}, as_=admin)
    api.put(f"/users/{doomed.id}", {"email": f"moved-{doomed.email}"}, as_=admin)
    stream()
    api.delete(f"/users/{doomed.id}", as_=admin)
    # events, allocations, offers
    event = {"title": "Tour", "time": "2031-01-01T20:00:00Z", "price": "10",
             "currency_code": "EUR", "number_of_tickets": 50}  # fmt: skip
    event_id = api.post("/events", event, as_=organizer_token).json_body["event"]["id"]
    organizer_id = api.get("/myself", as_=organizer_token).json_body["id"]
    api.get("/events?from=2030-01-01")
    api.get(f"/events?organizer_id={organizer_id}")
    api.get(f"/events/{event_id}")
    api.put(f"/events/{event_id}", {"number_of_tickets": 60}, as_=organizer_token)
    api.put(
        f"/events/{event_id}", {"cancellable_until": "2030-12-31T00:00:00Z"}, as_=organizer_token
    )
    allocation = f"/events/{event_id}/allocations/{reseller['id']}"
    api.put(allocation, {"number_of_tickets": 10}, as_=organizer_token)
    api.get(f"/events/{event_id}/allocations", as_=organizer_token)
    api.get("/allocations", as_=reseller_token)
    api.put(f"/allocations/{event_id}", {"on_sale": True}, as_=reseller_token)
    api.get(f"/events/{event_id}/offers")
    # bookings and buyers
    key = {"Idempotency-Key": uuid.uuid4().hex}
    booking = {"event_id": event_id, "buyer": buyer_body()}
    first = api.post("/sold-tickets", booking, headers=key).json_body["tickets"][0]
    api.post("/sold-tickets", booking, headers=key)  # replayed
    api.post("/sold-tickets", {**booking, "quantity": 2}, headers=key)  # another body: 422
    api.post("/sold-tickets", {**booking, "seller_id": reseller["id"]})
    api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer_body()}, as_=reseller_token)
    sold_out = {**booking, "quantity": 10, "seller_id": reseller["id"]}
    api.post("/sold-tickets", sold_out, headers={"Idempotency-Key": uuid.uuid4().hex})
    for caller in (admin, organizer_token, reseller_token):
        api.get("/sold-tickets", as_=caller)
    api.get(f"/sold-tickets?event_id={event_id}", as_=organizer_token)
    api.get(f"/sold-tickets/{first['id']}", as_=organizer_token)
    lone_ticket = api.post("/sold-tickets", booking).json_body["tickets"][0]
    api.put(f"/sold-tickets/{first['id']}", {"buyer": buyer_body()}, as_=admin)
    api.get("/buyers", as_=admin)
    api.get(f"/buyers/{first['buyer_id']}", as_=admin)
    api.put(f"/buyers/{first['buyer_id']}", {"name": "Renamed"}, as_=admin)
    api.delete(f"/sold-tickets/{first['id']}", as_=admin)
    api.get(f"/events/{event_id}/revoked-tickets", as_=organizer_token)
    # ticket types and orders, on an event paid online
    online = {**event, "title": "Online", "payment": "online"}
    online_id = api.post("/events", online, as_=organizer_token).json_body["event"]["id"]
    types = f"/events/{online_id}/ticket-types"
    vip = api.post(types, {"name": "VIP", "price": "30", "quantity": 5}, as_=organizer_token)
    vip = vip.json_body["ticket_type"]
    api.get(types)
    api.put(f"{types}/{vip['id']}", {"quantity": 4, "name": "V.I.P."}, as_=organizer_token)
    spare = api.post(types, {"name": "Spare", "price": "1"}, as_=organizer_token).json_body
    api.delete(f"{types}/{spare['ticket_type']['id']}", as_=organizer_token)
    line = {"ticket_type_id": vip["id"], "quantity": 1}
    held = api.post("/orders", {"event_id": online_id, "items": [line],
                                "buyer": buyer_body()}).json_body  # fmt: skip
    api.get(f"/orders/{held['order']['id']}", as_=held["order_token"])
    api.get("/orders?status=reserved", as_=organizer_token)
    api.get(f"/orders?event_id={online_id}", as_=organizer_token)
    api.get("/orders", as_=admin)
    api.get("/orders", as_=reseller_token)
    api.post(f"/orders/{held['order']['id']}/cancel", as_=held["order_token"])
    # the on-sale queue: a place, its admission, an order with it
    opened = {**event, "title": "Queued", "queue": {"opens_at": "2020-01-01T00:00:00Z",
                                                    "admit_per_second": 1000}}  # fmt: skip
    queued_id = api.post("/events", opened, as_=organizer_token).json_body["event"]["id"]
    place = api.post(f"/events/{queued_id}/queue", {}).json_body
    admission = api.get(f"/queue/{place['queue_token']}").json_body["admission"]
    queued_order = {"event_id": queued_id, "items": [{"quantity": 1}], "buyer": buyer_body()}
    admitted = api.post("/orders", queued_order, headers={"X-Admission": admission})
    assert admitted.status_code == 201, admitted.json_body
    # vouchers: one used by a held order and given back by its cancel
    vouchers = f"/events/{online_id}/vouchers"
    code = {"code": "TOUR10", "discount": {"type": "percent", "value": "10"}, "max_uses": 5}
    voucher = api.post(vouchers, code, as_=organizer_token).json_body["voucher"]
    api.get(vouchers, as_=organizer_token)
    api.get(f"{vouchers}/{voucher['id']}", as_=organizer_token)
    api.put(f"{vouchers}/{voucher['id']}", {"max_uses": 6}, as_=organizer_token)
    discounted = api.post("/orders", {"event_id": online_id, "items": [line], "voucher": "tour10",
                                      "buyer": buyer_body()}).json_body  # fmt: skip
    api.post(f"/orders/{discounted['order']['id']}/cancel", as_=discounted["order_token"])
    api.delete(f"{vouchers}/{voucher['id']}", as_=organizer_token)
    api.post(vouchers, {**code, "code": "KEPT"}, as_=organizer_token)  # goes with the event
    # the waiting list: a type sold out, a place taken, the seat back and offered, then left
    few = api.post(types, {"name": "Few", "price": "5", "quantity": 1}, as_=organizer_token)
    few_line = {"ticket_type_id": few.json_body["ticket_type"]["id"], "quantity": 1}
    known = buyer_body()  # an existing buyer waits first, a new one second
    taken = api.post("/orders", {"event_id": online_id, "items": [few_line],
                                 "buyer": known}).json_body  # fmt: skip
    waiting = f"/events/{online_id}/waiting-list"
    api.post(waiting, {**few_line, "buyer": {**known, "email": known["email"].upper()}})
    api.post(waiting, {**few_line, "buyer": buyer_body()})
    api.post(waiting, {**few_line, "buyer": buyer_body()})
    third = api.get(waiting, as_=organizer_token).json_body["entries"][2]
    api.put(f"/waiting-list/{third['id']}", {"priority": 0}, as_=organizer_token)
    stream()
    api.post(f"/orders/{taken['order']['id']}/cancel", as_=taken["order_token"])
    stream()  # the seat is offered to the first entry
    for _ in range(2):  # the offered entry leaves: the seat goes to the next one
        first = api.get(waiting, as_=organizer_token).json_body["entries"]
        offered = next(e for e in first if e["status"] == "offered")
        api.delete(f"/waiting-list/{offered['id']}", as_=organizer_token)
        stream()
    last = next(e for e in api.get(waiting, as_=organizer_token).json_body["entries"]
                if e["status"] == "offered")  # fmt: skip
    api.delete(f"/waiting-list/{last['id']}", as_=admin)  # offered
    own_sale = {"event_id": online_id, "items": [line], "buyer": buyer_body()}
    api.post("/orders", own_sale, as_=organizer_token, headers={"Idempotency-Key": "k"})
    # card payments: the checkout page, paying, Stripe's webhook after, a refund, a dispute
    card = api.post("/orders", {"event_id": online_id, "items": [line],
                                "buyer": buyer_body()}).json_body  # fmt: skip
    card_id = card["order"]["id"]
    api.http.get(card["order"]["payment"]["checkout_url"].removeprefix("http://api.test"))
    paid = api.post(f"/orders/{card_id}/pay", {"card_token": card_token()},
                    as_=card["order_token"]).json_body["order"]  # fmt: skip
    intent_id = card["order"]["payment"]["client_secret"].split("_secret_")[0]
    post_event(
        api, stripe_event("payment_intent.succeeded", stripe_get(f"payment_intents/{intent_id}"))
    )
    api.post(f"/orders/{card_id}/refunds", {"ticket_ids": [paid["tickets"][0]["id"]]},
             as_=organizer_token)  # fmt: skip
    api.get(f"/orders/{card_id}/refunds", as_=organizer_token)
    # reports and exports
    api.get(f"/events/{online_id}/report", as_=organizer_token)
    api.get(f"/events/{online_id}/orders.csv", as_=organizer_token)
    api.get(f"/sellers/{reseller['id']}/report", as_=organizer_token)
    post_event(api, stripe_event("charge.dispute.created", {
        "id": "dp_tour", "payment_intent": intent_id, "amount": 3000, "reason": "fraudulent",
        "status": "needs_response"}))  # fmt: skip
    stream()
    api.delete(f"/events/{online_id}?force=true", as_=admin)
    # the door
    scanners = f"/events/{event_id}/scanners"
    device = api.post(scanners, {"name": "Gate"}, as_=organizer_token).json_body
    api.get(scanners, as_=organizer_token)
    door = f"/events/{event_id}/check-ins"
    scanned = {"qr": lone_ticket["qr"], "nonce": "n1"}
    api.post(door, scanned, as_=device["token"])
    api.post(door, scanned, as_=device["token"])  # the retry
    api.post(door, {"code": lone_ticket["code"]}, as_=device["token"])  # already in
    api.get(door, as_=device["token"])
    api.get(f"/events/{event_id}/revoked-tickets", as_=device["token"])
    api.delete(f"{door}/{lone_ticket['id']}", as_=organizer_token)
    api.delete(f"{scanners}/{device['scanner']['id']}", as_=organizer_token)
    api.post(scanners, {"name": "Spare"}, as_=organizer_token)  # goes with the event
    # the audit log, through each of its indexes
    for query in ("", "?actor_id=x", "?target_id=x", "?action=user.blocked"):
        api.get(f"/audit-log{query}", as_=admin)
    api.get(f"/events/{event_id}/audit-log", as_=organizer_token)
    # webhooks: the organizer's endpoint answers 200, the admin's 410 Gone
    hook = api.post("/webhooks", {"url": HOOK_URL, "events": ["ticket.sold", "ticket.cancelled"]},
                    as_=organizer_token).json_body["webhook"]  # fmt: skip
    api.post("/webhooks", {"url": GONE_URL, "events": ["ticket.cancelled"]}, as_=admin)
    for caller in (organizer_token, admin):
        api.get("/webhooks", as_=caller)
    api.get(f"/webhooks/{hook['id']}", as_=organizer_token)
    # buyers' own access
    mine = buyer_body()
    my_ticket = api.post("/sold-tickets", {"event_id": event_id, "buyer": mine}).json_body
    api.post("/buyer-access", {"email": mine["email"]})
    stream()
    access = re.search(r"/my-tickets/([\w-]+)", sent_emails(drain=False)[-1].body).group(1)
    api.get(f"/my-tickets/{access}")
    buyer_token = api.post("/buyer-sessions", {"token": access}).json_body["auth_token"]
    api.get("/my-tickets", as_=buyer_token)
    api.post("/my-tickets/resend", as_=buyer_token)
    api.delete(f"/my-tickets/{my_ticket['tickets'][0]['id']}", as_=buyer_token)
    api.delete("/my-data", as_=buyer_token)
    lone = api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer_body()})
    lone = lone.json_body["tickets"][0]
    api.delete(f"/sold-tickets/{lone['id']}", as_=admin)
    stream()
    for delivery in api.get(f"/webhooks/{hook['id']}/deliveries", as_=organizer_token).json_body[
        "deliveries"
    ][:1]:
        api.post(f"/webhooks/{hook['id']}/deliveries/{delivery['id']}/retry", as_=organizer_token)
    api.delete(f"/webhooks/{hook['id']}", as_=organizer_token)
    api.delete(f"/buyers/{lone['buyer_id']}", as_=admin)
    api.delete(allocation, as_=organizer_token)
    api.delete(f"/events/{event_id}?force=true", as_=admin)


@pytest.fixture
def authorizer_apart(monkeypatch):
    """The test client runs the authorizer in the API's process; deployed, it is a function of
    its own with its own policy, so the tour must not count its reads as the API's."""
    from chalicelib.auth import authorizer

    real = authorizer.authenticate

    def unrecorded(header):
        with muted():
            return real(header)

    monkeypatch.setattr(authorizer, "authenticate", unrecorded)


def test_the_api_functions_policy_grants_exactly_what_its_routes_do(
    api, rate_limits, authorizer_apart
):
    def consumer_apart() -> None:
        with muted():  # the consumer is its own function, with its own policy (below)
            drain_stream()

    with recording() as performed:
        tour(api, rate_limits, stream=consumer_apart)

    granted = policy_grants("APIHandler")
    assert not performed - granted, f"performed without permission: {sorted(performed - granted)}"
    assert not granted - performed, f"granted but never performed: {sorted(granted - performed)}"


def test_the_stream_consumers_policy_grants_exactly_what_it_does(
    api, rate_limits, authorizer_apart
):
    performed: set = set()

    def consume() -> None:
        # Reading the stream is Lambda's part: only the handler's calls count.
        with recording() as seen:
            consume_stream()
        performed.update(seen)
        with muted():  # the side-effects worker is its own function (below)
            drain_stream()

    tour(api, rate_limits, stream=consume)

    granted = policy_grants("ChangesConsumer")
    assert not performed - granted, f"performed without permission: {sorted(performed - granted)}"
    assert not granted - performed, f"granted but never performed: {sorted(granted - performed)}"


def test_the_side_effects_workers_policy_grants_exactly_what_it_does(
    api, rate_limits, authorizer_apart
):
    from botocore.exceptions import ClientError

    performed: set = set()
    ses = aws.client("ses")
    real_send = ses.send_email
    refused = []

    def throttled(**_: Any) -> None:
        refused.append(1)
        raise ClientError({"Error": {"Code": "Throttling", "Message": "slow"}}, "SendEmail")

    def work() -> None:
        # Receiving and deleting messages is Lambda's part: only the handler's calls count.
        # SES refuses the first email, so its claim is released and the message comes back.
        with muted():
            consume_stream()
        with recording() as seen:
            ses.send_email = throttled
            try:
                drain_side_effects()
            except ClientError:
                pass
            finally:
                ses.send_email = real_send
        performed.update(seen)
        while True:  # the consumer is its own function: only the worker's calls count
            with muted():
                changes = consume_stream()
            with recording() as seen:
                done = drain_side_effects()
            performed.update(seen)
            if not changes and not done:
                return

    tour(api, rate_limits, stream=work)
    # A webhook that never answers: five sales pause it (the circuit breaker's transaction).
    organizer = make_user("organizer")
    api.post("/webhooks", {"url": SILENT_URL, "events": ["ticket.sold"]}, as_=organizer)
    from tests.conftest import make_event

    event_id = make_event(organizer)
    for _ in range(5):
        api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer_body()})
    work()
    # An account whose sending slots are all taken: the attempt reads them, and waits.
    from chalicelib.db.sending_slots import ACCOUNT_SLOTS, AccountSlots, take

    busy = make_user("organizer")
    api.post("/webhooks", {"url": HOOK_URL, "events": ["ticket.sold"]}, as_=busy)
    with muted():
        for _ in ACCOUNT_SLOTS:
            take(AccountSlots(key=f"account:{busy.id}"), ACCOUNT_SLOTS, 60_000)
    api.post("/sold-tickets", {"event_id": make_event(busy), "buyer": buyer_body()})
    work()

    assert refused
    granted = policy_grants("SideEffects")
    assert not performed - granted, f"performed without permission: {sorted(performed - granted)}"
    assert not granted - performed, f"granted but never performed: {sorted(granted - performed)}"


def test_the_retry_schedules_policy_grants_exactly_what_it_does(api, webhook_receivers):
    from datetime import timedelta

    from chalicelib.db.base import utcnow
    from chalicelib.services.stream import webhook_deliveries
    from tests.conftest import make_event

    organizer = make_user("organizer")
    for url in (HOOK_URL, GONE_URL):
        api.post("/webhooks", {"url": url, "events": ["ticket.sold"]}, as_=organizer)
    for url in (HOOK_URL, GONE_URL):
        webhook_receivers.replace(url, 500)
    api.post("/sold-tickets", {"event_id": make_event(organizer), "buyer": buyer_body()})
    drain_stream()  # first attempts both fail
    webhook_receivers.replace(HOOK_URL, 200)
    webhook_receivers.replace(GONE_URL, 410)

    with recording() as performed:  # both queued again
        assert webhook_deliveries.queue_due(utcnow() + timedelta(minutes=3)) == 2

    granted = policy_grants("WebhookRetries")
    assert not performed - granted, f"performed without permission: {sorted(performed - granted)}"
    assert not granted - performed, f"granted but never performed: {sorted(granted - performed)}"


def test_the_expiry_schedules_policy_grants_exactly_what_it_does(api):
    from datetime import timedelta

    from chalicelib.db.base import utcnow
    from chalicelib.services.sales import orders

    organizer = make_user("organizer")
    event = {"title": "Held", "time": "2031-01-01T20:00:00Z", "price": "10",
             "currency_code": "EUR", "number_of_tickets": 5, "payment": "online",
             "hold_minutes": 1}  # fmt: skip
    event_id = api.post("/events", event, as_=organizer).json_body["event"]["id"]
    voucher = {"code": "HELD", "discount": {"type": "amount", "value": "1"}}
    assert api.post(f"/events/{event_id}/vouchers", voucher, as_=organizer).status_code == 201
    order = {"event_id": event_id, "items": [{"quantity": 2}], "buyer": buyer_body()}
    assert api.post("/orders", order).json_body["order"]["status"] == "reserved"
    # an order with a voucher gives its use back when its hold ends
    assert api.post("/orders", {**order, "voucher": "held"}).status_code == 201
    # an offer to the waiting list lapses: its entry follows
    waited = {**event, "title": "Waited", "number_of_tickets": 1, "waiting_list_hours": 1}
    waited_id = api.post("/events", waited, as_=organizer).json_body["event"]["id"]
    taken = api.post("/orders", {"event_id": waited_id, "items": [{"quantity": 1}],
                                 "buyer": buyer_body()}).json_body  # fmt: skip
    join = {"ticket_type_id": waited_id, "quantity": 1, "buyer": buyer_body()}
    assert api.post(f"/events/{waited_id}/waiting-list", join).status_code == 202
    api.post(f"/orders/{taken['order']['id']}/cancel", as_=taken["order_token"])
    drain_stream()  # the consumer makes the offer

    with recording() as performed:
        assert orders.sweep(utcnow() + timedelta(hours=2), since=utcnow()) == 3

    granted = policy_grants("OrderExpiry")
    assert not performed - granted, f"performed without permission: {sorted(performed - granted)}"
    assert not granted - performed, f"granted but never performed: {sorted(granted - performed)}"


def test_the_authorizers_policy_grants_exactly_one_read_per_kind_of_token(api):
    from tests.conftest import make_event, token_for

    organizer = make_user()
    device = api.post(
        f"/events/{make_event(organizer)}/scanners", {"name": "Gate"}, as_=organizer
    ).json_body

    from chalicelib.auth.tokens import issue_buyer_token

    buyer = issue_buyer_token(buyer_id="someone", token_version=0).auth_token

    with recording() as performed:
        authenticate(f"Bearer {token_for(organizer)}")
        authenticate(f"Bearer {device['token']}")
        with contextlib.suppress(Unauthorized):
            authenticate(f"Bearer {buyer}")

    assert performed == {
        ("dynamodb:GetItem", "users", None),
        ("dynamodb:GetItem", "scanners", None),
        ("dynamodb:GetItem", "buyers", None),
    }
    assert policy_grants("BearerAuth") == performed


@pytest.mark.parametrize(
    "function", ["APIHandler", "BearerAuth", "ChangesConsumer", "WebhookRetries", "OrderExpiry"]
)
def test_no_statement_grants_a_wildcard_resource(function):
    for statement in policy(function)["Statement"]:
        assert statement["Resource"] != "*" and "*" not in statement["Resource"], statement
        assert all("*" not in action for action in statement["Action"]), statement
