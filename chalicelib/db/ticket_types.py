"""Ticket types: an event's price categories, each with the counts its sales keep.

`remaining` is what the type's own `quantity` still allows (quantity - sold - held). A type
without a quantity keeps `quantity = UNLIMITED`, so every sale and release changes `remaining`
the same way whether or not the type is limited: a condition never depends on a shape that a
parallel change of the quantity could alter. The event's capacity limits every type anyway.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.db.base import TableModel, table_meta, utcnow

# Above any event's capacity (at most 1,000,000): a type with no quantity of its own.
UNLIMITED = 1_000_000_000
DEFAULT_NAME = "General admission"
DEFAULT_MAX_PER_ORDER = 10


class TicketType(TableModel):
    Meta = table_meta("ticket-types")

    event_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    price_minor = NumberAttribute()
    currency_code = UnicodeAttribute()
    quantity = NumberAttribute(default=UNLIMITED)
    remaining = NumberAttribute(default=UNLIMITED)
    sold = NumberAttribute(default=0)
    held = NumberAttribute(default=0)
    # For the report, kept by the transactions that sell, refund and check in (no scan): of
    # `sold`, how many got in; what paid orders paid for it and what was given back (minor units).
    checked_in = NumberAttribute(default=0)
    gross_minor = NumberAttribute(default=0)
    refunded_minor = NumberAttribute(default=0)
    # Entries waiting for it (chalicelib/db/waiting_list.py). While any wait, its stock goes
    # to them first: the organizer's orders of it are refused, offers alone take it.
    waiting = NumberAttribute(default=0)
    available_from = UTCDateTimeAttribute(null=True)
    available_until = UTCDateTimeAttribute(null=True)
    max_per_order = NumberAttribute(default=DEFAULT_MAX_PER_ORDER)
    on_sale = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    @property
    def limited(self) -> bool:
        return self.quantity < UNLIMITED

    @property
    def own_quantity(self) -> int | None:
        """The type's own limit as the API shows it: None when it has none."""
        return self.quantity if self.limited else None
