"""Bringing stored data up to the current model, run by the setup step. Each step is idempotent
and safe to interrupt: running it again finishes what a crash left half done.

Index keys (the hot on-sales release): orders and tickets are listed by event, organizer and
seller through index keys of their own (`event_part`, ...: db/index_parts.py); items stored
before carry none and get the plain ids, which is what every unsharded item carries.

Ticket types (an earlier release): an event stored before ticket types existed sold one kind of
ticket at one price. It gets that as its one type, "General admission" at its price, whose id
is the event's own (as for every event created since); its tickets name that type, and each
reseller pool's share becomes its share of that type.
"""

from __future__ import annotations

import logging

from pynamodb.exceptions import PynamoDBException
from pynamodb.transactions import TransactWrite

from chalicelib.db import transactions
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import utcnow
from chalicelib.db.events import Event
from chalicelib.db.orders import Order
from chalicelib.db.ticket_types import DEFAULT_NAME
from chalicelib.db.tickets import Ticket
from chalicelib.services.sales import inventory
from chalicelib.services.sales.ticket_types import add_new_type, default_type

log = logging.getLogger(__name__)


def add_index_parts() -> int:
    """Give every order and ticket stored without index keys its plain ones; returns how many.
    One Scan of each table, reading only the items that lack them (a one-off, at setup)."""
    added = 0
    for model in (Order, Ticket):
        for item in model.scan(filter_condition=model.event_part.does_not_exist()):
            try:
                item.update(
                    actions=[model.event_part.set(item.event_id),
                             model.organizer_part.set(item.organizer_id),
                             model.seller_part.set(item.seller_id)],
                    condition=model.event_part.does_not_exist(),
                )  # fmt: skip
            except PynamoDBException as exc:
                if not transactions.condition_failed(exc):  # given its keys meanwhile: fine
                    raise
                continue
            added += 1
    if added:
        log.info("index keys: %d orders and tickets migrated", added)
    return added


def add_ticket_types() -> int:
    """Give every event stored without ticket types its "General admission" type; returns how
    many events were migrated. One Scan of the events table (a one-off, at setup)."""
    migrated = 0
    for event in Event.scan(filter_condition=Event.ticket_type_ids.does_not_exist()):
        _name_tickets(event)
        if _add_default_type(event):
            migrated += 1
    if migrated:
        log.info("ticket types: %d events migrated", migrated)
    return migrated


def _name_tickets(event: Event) -> None:
    """Tickets first: if the step stops here, the event is still found unmigrated next time."""
    for ticket in Ticket.by_event.query(event.id):
        if ticket.ticket_type_id is None:
            ticket.update(
                actions=[
                    Ticket.ticket_type_id.set(event.id),
                    Ticket.ticket_type_name.set(DEFAULT_NAME),
                ],
                condition=Ticket.ticket_type_id.does_not_exist(),
            )


def _add_default_type(event: Event) -> bool:
    pools = inventory.pools_of(event.id)
    now = utcnow()
    first = default_type(event, now)
    sold = sum(pool.sold for pool in pools)
    first.sold = sold
    first.remaining = first.quantity - sold

    def build(tx: TransactWrite) -> None:
        add_new_type(tx, first, first.id)
        tx.update(
            event,
            actions=[Event.ticket_type_ids.set({first.id}), Event.types_version.set(1)],
            condition=Event.ticket_type_ids.does_not_exist(),
        )
        for pool in pools:
            if pool.seller_role != inventory.RESELLER:
                continue
            entry = {"share": pool.number_of_tickets, "sold": pool.sold, "held": 0,
                     "available": pool.number_of_tickets - pool.sold}  # fmt: skip
            # Against the counts read: a sale landing meanwhile refuses this, and it is retried.
            tx.update(
                pool,
                actions=[Allocation.types.set({first.id: entry})],
                condition=(Allocation.sold == pool.sold)
                & (Allocation.number_of_tickets == pool.number_of_tickets),
            )

    return transactions.write_unless_refused(build)
