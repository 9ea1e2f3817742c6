"""DynamoDB misbehaving: throttling and transaction conflicts are retried; what still fails is
a 503 with nothing half-written."""

import json

import pytest
from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import BotocoreStubber

from chalicelib.db.allocations import Allocation
from chalicelib.db.buyers import Buyer
from chalicelib.db.idempotency import IdempotencyRecord
from chalicelib.db.tickets import Ticket
from tests.conftest import buyer_body, make_event, make_user


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_):
        yield self._body


def dynamodb_error(error_type: str, **extra) -> AWSResponse:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{error_type}", **extra})
    return AWSResponse(
        "https://dynamodb.us-east-1.amazonaws.com/",
        400,
        {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault"},
        _Raw(body.encode()),
    )


@pytest.fixture
def inject(monkeypatch):
    """Make the next TransactWriteItems calls fail with the given responses.

    The fault replaces moto's answer inside moto's own hook: a separate botocore hook would
    not stop moto from applying the write (botocore calls every before-send hook).
    """
    sleeps = []
    monkeypatch.setattr("time.sleep", sleeps.append)  # botocore's and our backoff, instantly
    faults = []
    calls = []
    moto_answer = BotocoreStubber.__call__

    def faulty(self, event_name, request, **kwargs):
        if event_name == "before-send.dynamodb.TransactWriteItems":
            calls.append(request)
            if faults:
                return faults.pop(0)
        return moto_answer(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", faulty)
    return faults, calls, sleeps


def book(api, event_id, **headers):
    return api.post(
        "/sold-tickets",
        {"event_id": event_id, "quantity": 2, "buyer": buyer_body()},
        headers=headers,
    )


def test_throttled_transactions_are_retried_with_backoff(api, inject):
    faults, calls, sleeps = inject
    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=5)
    calls.clear()
    faults += [dynamodb_error("ThrottlingException", message="Rate exceeded")] * 2

    response = book(api, event_id)

    assert response.status_code == 201
    assert len(calls) == 3
    assert len(sleeps) >= 2
    assert Allocation.get(event_id, organizer.id).available == 3


def test_persistent_throttling_is_a_503_with_nothing_written(api, inject):
    faults, calls, _ = inject
    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=5)
    calls.clear()
    faults += [dynamodb_error("ThrottlingException", message="Rate exceeded")] * 50

    response = book(api, event_id, **{"Idempotency-Key": "throttled"})

    assert response.status_code == 503
    assert response.json_body["code"] == "storage_busy"
    assert 2 <= len(calls) <= 10  # botocore's bounded retries, not an endless loop
    pool = Allocation.get(event_id, organizer.id)
    assert (pool.sold, pool.available) == (0, 5)
    assert (Ticket.count(), Buyer.count()) == (0, 0)
    # The key is free again: a retry after the storm books normally.
    assert IdempotencyRecord.count("anonymous:throttled") == 0
    faults.clear()
    assert book(api, event_id, **{"Idempotency-Key": "throttled"}).status_code == 201


def test_a_transaction_conflict_is_retried_and_books_once(api, inject):
    faults, calls, _ = inject
    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=5)
    calls.clear()
    faults.append(
        dynamodb_error(
            "TransactionCanceledException",
            Message="Transaction cancelled [TransactionConflict]",
            CancellationReasons=[{"Code": "TransactionConflict", "Message": "conflict"}]
            + [{"Code": "None"}] * 4,
        )
    )

    response = book(api, event_id)

    assert response.status_code == 201
    assert len(calls) == 2
    assert Ticket.count() == 2
    assert Allocation.get(event_id, organizer.id).sold == 2


def test_conflicts_that_never_clear_are_a_503(api, inject):
    faults, calls, _ = inject
    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=5)
    calls.clear()
    conflict = dynamodb_error(
        "TransactionCanceledException",
        Message="Transaction cancelled [TransactionConflict]",
        CancellationReasons=[{"Code": "TransactionConflict"}] + [{"Code": "None"}] * 4,
    )
    faults += [conflict] * 20

    response = book(api, event_id)

    assert response.status_code == 503
    assert len(calls) == 4  # our bounded retries of a cancelled transaction
    assert (Ticket.count(), Allocation.get(event_id, organizer.id).sold) == (0, 0)


@pytest.fixture
def hot_partitions(monkeypatch):
    """The emulator's partition model with its clock stopped: a partition key's units, once
    spent, stay spent."""
    from devstack import partitions

    monkeypatch.setattr("time.sleep", lambda _: None)  # our backoff, instantly
    yield lambda spec: partitions.install(partitions.parse(spec), clock=lambda: 0.0)
    partitions.install(None)


def test_a_throttled_partition_is_a_503_with_retry_after_and_nothing_written(api, hot_partitions):
    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=50)
    hot_partitions("wcu:2,rcu:1000,conflict_ms:0")  # one transactional write per item

    first = book(api, event_id)
    second = book(api, event_id)

    assert first.status_code == 201, first.json_body
    assert second.status_code == 503
    assert second.json_body["code"] == "storage_busy"
    assert second.headers["Retry-After"] == "1"
    hot_partitions(None)
    pool = Allocation.get(event_id, organizer.id)
    assert (pool.sold, Ticket.count()) == (2, 2)


def test_model_conflicts_are_retried_until_the_window_passes(api, hot_partitions, monkeypatch):
    from devstack import partitions

    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=50)
    now = [0.0]
    model = partitions.install(partitions.parse("wcu:1000,rcu:1000,conflict_ms:1"),
                               clock=lambda: now[0])  # fmt: skip
    book(api, event_id)  # holds its items for 1 ms of the model's clock
    monkeypatch.setattr("time.sleep", lambda seconds: now.__setitem__(0, now[0] + seconds))

    again = book(api, event_id)  # at once: conflicts, then the backoff's sleeps move time on

    assert again.status_code == 201, again.json_body
    assert model.stats["TransactionCanceledException"] >= 1
    assert Allocation.get(event_id, organizer.id).sold == 4
