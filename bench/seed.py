"""Rows written straight to the tables (no API), for measurements that need data in bulk.

No settings are touched here: the caller has pointed the app at its tables before importing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.auth.tokens import issue_token
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import new_id
from chalicelib.db.events import Event
from chalicelib.db.orders import RESERVED, Order, OrderLine, due_minute
from chalicelib.db.ticket_types import TicketType
from chalicelib.db.tickets import Holder, Ticket


def bearer(user: Any) -> dict[str, str]:
    token = issue_token(user_id=user.id, role=user.role, token_version=user.token_version)
    return {"Authorization": f"Bearer {token.auth_token}"}


def add_events(organizer_id: str, count: int) -> None:
    when = datetime.now(UTC) + timedelta(days=30)
    with Event.batch_write() as events, Allocation.batch_write() as pools:
        for i in range(count):
            event_id = new_id()
            events.save(Event(id=event_id, title=f"Event {i}", time=when + timedelta(minutes=i),
                              price_minor=1000, currency_code="EUR", number_of_tickets=100,
                              organizer_id=organizer_id, seller_ids={organizer_id},
                              ticket_type_ids={event_id}))  # fmt: skip
            pools.save(Allocation(event_id=event_id, seller_id=organizer_id,
                                  seller_role="organizer", number_of_tickets=100,
                                  available=100, on_sale=True))  # fmt: skip


def add_sold_tickets(event: Event, count: int, ticket_type_id: str | None = None) -> None:
    """`count` tickets of one type (default: the event's first) sold by its organizer."""
    type_id = ticket_type_id or event.id
    with Ticket.batch_write() as batch:
        for _ in range(count):
            batch.save(Ticket(id=new_id(), event_id=event.id, seller_id=event.organizer_id,
                              organizer_id=event.organizer_id, buyer_id="bulk", code="BULK",
                              ticket_type_id=type_id, price_minor=event.price_minor,
                              currency_code=event.currency_code))  # fmt: skip
    Allocation(event_id=event.id, seller_id=event.organizer_id).update(
        actions=[Allocation.sold.add(count), Allocation.available.add(-count)]
    )
    TicketType(event_id=event.id, id=type_id).update(
        actions=[TicketType.sold.add(count), TicketType.remaining.add(-count)]
    )


def add_orders(event: Event, count: int, *, reserved_until: datetime) -> None:
    """`count` reserved orders of one ticket each, expiring at `reserved_until` (their stock
    counted as held), as the sweep's index holds them: what a sweep must not pay for."""
    with Order.batch_write() as batch:
        for _ in range(count):
            batch.save(Order(id=new_id(), event_id=event.id, seller_id=event.organizer_id,
                             organizer_id=event.organizer_id, buyer_id="bulk",
                             holder=Holder(name="B", phone="+442079460958"), status=RESERVED,
                             items=[OrderLine(ticket_type_id=event.id, name="GA", quantity=1,
                                              unit_price_minor=event.price_minor)],
                             total_minor=event.price_minor, currency_code=event.currency_code,
                             expires_at=reserved_until,
                             due_minute=due_minute(reserved_until)))  # fmt: skip
    Allocation(event_id=event.id, seller_id=event.organizer_id).update(
        actions=[Allocation.held.add(count), Allocation.available.add(-count)]
    )
    TicketType(event_id=event.id, id=event.id).update(
        actions=[TicketType.held.add(count), TicketType.remaining.add(-count)]
    )
