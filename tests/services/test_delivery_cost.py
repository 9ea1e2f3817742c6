"""What one sale costs the event stream's two functions, in DynamoDB calls (deterministic, so
asserted here; `make bench` prices them): the consumer only reads who hears of it and records
the delivery, the worker's webhook attempt holds two sending slots around its POST."""

import pytest

from bench.meter import metered
from chalicelib.db.changes import Change
from chalicelib.db.deliveries import Delivery
from chalicelib.services.stream import announcements, webhook_deliveries
from tests.api.test_webhooks import URL, book, subscribe
from tests.conftest import consume_stream, make_event, make_user

pytestmark = pytest.mark.usefixtures("public_dns")


def test_a_sale_costs_the_consumer_four_calls_and_its_webhook_attempt_eight(api, receiver):
    organizer = make_user("organizer")
    webhook_id = subscribe(api, organizer).json_body["webhook"]["id"]
    receiver.add(URL, 204)
    book(api, make_event(organizer))
    consume_stream()  # the changes before the sale, and the sale: handled once already
    [sale] = [c for c in Change.scan() if c.type == "ticket.sold"]
    Delivery.get(f"{sale.id}:{webhook_id}").delete()

    with metered() as consumer:
        assert announcements.handle(sale) == 2  # the email and the attempt, queued
    with metered() as worker:
        assert webhook_deliveries.attempt_queued(f"{sale.id}:{webhook_id}", 0) == 204

    # who hears of it (by owner, admins), is its owner blocked, the delivery recorded
    assert consumer.cost.operations == ["Query", "Query", "GetItem", "PutItem"]
    # claim, the webhook, its owner, a slot of the account and of the webhook, the POST,
    # both slots back, the outcome
    assert worker.cost.operations == [
        "UpdateItem",
        "GetItem",
        "GetItem",
        "UpdateItem",
        "UpdateItem",
        "UpdateItem",
        "UpdateItem",
        "UpdateItem",
    ]
    assert len(receiver.calls) == 1


def test_a_batch_of_sales_reads_who_hears_of_them_once(api, receiver):
    """During a hot on-sale one organizer's sales stream in by the thousand: the consumer reads
    its webhooks, the admins' and its account once per batch, not once per sale."""
    organizer = make_user("organizer")
    subscribe(api, organizer)
    receiver.add(URL, 204)
    event_id = make_event(organizer)
    consume_stream()
    for _ in range(5):
        book(api, event_id)

    with metered() as consumer:
        assert consume_stream() >= 5
    calls = consumer.cost.operations
    # who hears (by owner, admins), whether its owner is blocked: once for the whole batch
    assert calls.count("Query") == 2
    assert calls.count("GetItem") == 1
    assert calls.count("PutItem") == 5  # a delivery recorded per sale
