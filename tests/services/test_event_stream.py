"""The event stream's consumer: what a change calls for happens once, whatever the stream does
(a record delivered twice, a batch that fails half-way and comes back, SES refusing for a
while), and a booking refused by its condition announces nothing."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.consumers import changes as consumer
from chalicelib.db.changes import Change
from chalicelib.db.deliveries import DELIVERED, Delivery
from chalicelib.services.stream import announcements
from devstack.streams import StreamReader, as_handler_input
from tests.conftest import buyer_body, drain_side_effects, make_event, make_user, sent_emails


def book(client_api, event_id, quantity=1):
    answer = client_api.post(
        "/sold-tickets", {"event_id": event_id, "quantity": quantity, "buyer": buyer_body()}
    )
    assert answer.status_code in (201, 409), answer.body
    return answer


def confirmations() -> list:
    return [m for m in sent_emails(drain=False) if m.subject.startswith("Your tickets for")]


def stream_records() -> list[dict]:
    reader = StreamReader(aws.client("dynamodbstreams"), aws.client("dynamodb"), "test-changes")
    return reader.read()


@pytest.fixture
def sales(api):
    """Three bookings recorded on the stream, none carried out yet."""
    event_id = make_event(make_user("organizer"), number_of_tickets=3)
    for _ in range(3):
        book(api, event_id)
    return event_id


def test_a_record_delivered_twice_sends_once(sales):
    records = as_handler_input(stream_records())

    consumer.handle_records(records)
    consumer.handle_records(records)
    drain_side_effects()

    assert len(confirmations()) == 3
    assert {d.status for d in Delivery.scan()} == {DELIVERED}


def test_a_batch_that_fails_half_way_comes_back_and_sends_nothing_twice(sales, monkeypatch):
    records = as_handler_input(stream_records())
    real_handle = announcements.handle
    seen = []

    def crash_on_the_second_sale(change: Change, audience=None) -> None:
        if change.type == "ticket.sold":
            seen.append(change.id)
            if len(seen) == 2:
                raise RuntimeError("the consumer's Lambda dies here")
        real_handle(change, audience)

    monkeypatch.setattr(announcements, "handle", crash_on_the_second_sale)
    with pytest.raises(RuntimeError):
        consumer.handle_records(records)
    drain_side_effects()
    assert len(confirmations()) == 1

    monkeypatch.setattr(announcements, "handle", real_handle)
    consumer.handle_records(records)  # the whole batch again, as Lambda redelivers it
    drain_side_effects()

    assert len(confirmations()) == 3
    assert len({m.to[0] for m in confirmations()}) == 3


def test_while_ses_refuses_nothing_is_lost_and_nothing_doubles(sales, monkeypatch):
    records = as_handler_input(stream_records())
    ses = aws.client("ses")
    real_send = ses.send_raw_email
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) % 2:  # every other attempt is throttled
            raise ClientError({"Error": {"Code": "Throttling", "Message": "slow"}}, "SendRawEmail")
        return real_send(**kwargs)

    monkeypatch.setattr(ses, "send_raw_email", flaky)
    consumer.handle_records(records)
    for _ in range(10):
        try:
            drain_side_effects()
            break
        except ClientError:
            continue  # the queue hands the message back

    assert len(confirmations()) == 3
    assert not [d for d in Delivery.scan() if d.status != DELIVERED]


def test_a_refused_booking_announces_nothing(api):
    event_id = make_event(make_user("organizer"), number_of_tickets=1)
    book(api, event_id)
    refused = book(api, event_id)

    assert refused.status_code == 409
    sold = [c for c in Change.scan() if c.type == "ticket.sold"]
    assert len(sold) == 1
    assert len(confirmations()) == 0
    sent_emails()  # drained
    assert len(confirmations()) == 1


def test_the_request_itself_sends_no_confirmation(sales):
    assert confirmations() == []
    sent_emails()
    assert len(confirmations()) == 3
