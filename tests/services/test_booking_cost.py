"""A booking's cost must not grow with what was already sold: no counting queries."""

from bench.meter import metered
from chalicelib.auth.principal import Principal
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import new_id, utcnow
from chalicelib.db.events import Event
from chalicelib.db.ticket_types import TicketType
from chalicelib.db.tickets import Ticket
from chalicelib.services.sales import orders
from chalicelib.services.sales.buyers import BuyerDetails
from devstack import partitions
from tests.conftest import make_event, make_user


def dynamodb_calls_of(action):
    """The DynamoDB operations `action` makes, in order."""
    with metered() as meter:
        action()
    return meter.cost.operations


def book_one(event_id, n, *, key=True):
    return lambda: orders.place_order(
        actor=None,
        event_id=event_id,
        seller_id=None,
        lines=[orders.LineRequest(None, 1)],
        buyer=BuyerDetails(name="B", email=f"buyer{n}@example.com", phone="+442079460958"),
        idempotency_key=f"key-{n}" if key else None,
    )


def sell_directly(event, count):
    """Put `count` sold tickets in the tables as bookings would have, without the API (and
    outside the partition model, if the suite runs under one: see devstack/partitions.py)."""
    now = utcnow()
    with partitions.suspended(), Ticket.batch_write() as batch:
        for _ in range(count):
            batch.save(
                Ticket(
                    id=new_id(),
                    event_id=event.id,
                    seller_id=event.organizer_id,
                    organizer_id=event.organizer_id,
                    buyer_id="bulk",
                    ticket_type_id=event.id,
                    code="BULK-BULK-BULK",
                    price_minor=event.price_minor,
                    currency_code=event.currency_code,
                    created_at=now,
                )
            )
    Allocation(event_id=event.id, seller_id=event.organizer_id).update(
        actions=[Allocation.sold.add(count), Allocation.available.add(-count)]
    )
    TicketType(event_id=event.id, id=event.id).update(
        actions=[TicketType.sold.add(count), TicketType.remaining.add(-count)]
    )


def test_booking_makes_the_same_dynamodb_calls_at_10_and_10000_sold(tables):
    organizer = make_user("organizer")
    event = Event.get(make_event(organizer, number_of_tickets=20_000))
    sell_directly(event, 10)
    at_10 = dynamodb_calls_of(book_one(event.id, 1, key=False))
    keyed_at_10 = dynamodb_calls_of(book_one(event.id, 2))

    sell_directly(event, 9_990)
    assert Allocation.get(event.id, organizer.id).sold == 10_002
    at_10000 = dynamodb_calls_of(book_one(event.id, 3, key=False))
    keyed_at_10000 = dynamodb_calls_of(book_one(event.id, 4))

    # One read (the event, its ticket type, the buyer's email claim, the key's record) and one
    # transaction,
    # with or without a key; the confirmation email is the event stream's work, not the
    # request's.
    assert at_10 == at_10000 == ["BatchGetItem", "TransactWriteItems"]
    assert keyed_at_10 == keyed_at_10000 == ["BatchGetItem", "TransactWriteItems"]


def test_an_authenticated_seller_booking_costs_the_same_too(tables):
    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=50)
    actor = Principal(user_id=organizer.id, role="organizer")

    def sell():
        orders.place_order(
            actor=actor,
            event_id=event_id,
            seller_id=None,
            lines=[orders.LineRequest(None, 2)],
            buyer=BuyerDetails(name="B", email="b@example.com", phone="+442079460958"),
        )

    first, second = dynamodb_calls_of(sell), dynamodb_calls_of(sell)

    assert first == second


def test_an_order_of_two_types_and_the_types_list_cost_the_same_at_10_and_10000_sold(tables):
    from chalicelib.services.sales import ticket_types

    organizer = make_user("organizer")
    event = Event.get(make_event(organizer, number_of_tickets=20_000))
    actor = Principal(user_id=organizer.id, role="organizer")
    vip = ticket_types.create_type(actor=actor, event_id=event.id, name="VIP", price="90")

    def order(n):
        return lambda: orders.place_order(
            actor=None, event_id=event.id, seller_id=None,
            lines=[orders.LineRequest(event.id, 2), orders.LineRequest(vip.id, 3)],
            buyer=BuyerDetails(name="B", email=f"o{n}@example.com", phone="+442079460958"),
        )  # fmt: skip

    def listing():
        return ticket_types.list_types(actor=None, event_id=event.id)

    sell_directly(event, 10)
    small = dynamodb_calls_of(order(1)), dynamodb_calls_of(listing)
    sell_directly(event, 9_990)
    large = dynamodb_calls_of(order(2)), dynamodb_calls_of(listing)

    assert small == large == (["BatchGetItem", "TransactWriteItems"], ["Query", "Query"])


def test_the_expiry_sweep_pays_for_what_expired_not_for_what_is_held(tables):
    from datetime import timedelta

    from chalicelib.db import index_parts
    from chalicelib.services.sales.events import update_event

    organizer = make_user("organizer")
    event_id = make_event(organizer, number_of_tickets=500)
    actor = Principal(user_id=organizer.id, role="organizer")
    update_event(actor=actor, event_id=event_id, payment="online", hold_minutes=1)

    def hold(n, minutes=1):
        update_event(actor=actor, event_id=event_id, hold_minutes=minutes)
        return orders.place_order(
            actor=None, event_id=event_id, seller_id=None, lines=[orders.LineRequest(None, 1)],
            buyer=BuyerDetails(name="B", email=f"h{n}@example.com", phone="+442079460958"),
        ).order  # fmt: skip

    due = hold(0)
    for n in range(1, 41):
        hold(n, minutes=30)  # held, not due: the sweep never reads them
    calls = dynamodb_calls_of(lambda: orders.sweep(due.expires_at + timedelta(seconds=1)))

    assert calls.count("TransactWriteItems") == 1
    assert set(calls) == {"Query", "TransactWriteItems"}
    # One per minute of the hour looked back on and part of its key (a hot sale's holds of
    # one minute spread over DUE_PARTS index partitions): 61 x 9, however many are held.
    assert calls.count("Query") == 61 * (1 + index_parts.DUE_PARTS)
