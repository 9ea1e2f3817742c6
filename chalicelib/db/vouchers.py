"""Vouchers (promo codes): a discount an event's organizer hands out, used at most `max_uses`
times.

A voucher's key is derived from its event and its code (case-insensitive), so an order that
names a code reads the voucher in the same BatchGetItem as everything else it decides on, and
a second voucher with the same code is refused by the put's own condition. `uses` counts the
orders holding or having paid with it; it changes only in the transactions that take and give
back those orders' stock, under the condition `uses < max_uses`.
"""

from __future__ import annotations

import hashlib

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.db.base import TableModel, table_meta, utcnow

PERCENT = "percent"
AMOUNT = "amount"
PRICE = "price"
DISCOUNT_TYPES = (PERCENT, AMOUNT, PRICE)
# A percentage is kept in hundredths of a percent: 12.5 % -> 1250, 100 % -> 10000.
PERCENT_SCALE = 100


def code_key(code: str) -> str:
    """Codes are compared case-insensitively (they are typed in by buyers)."""
    return code.strip().upper()


def voucher_id(event_id: str, code: str) -> str:
    """The voucher's opaque id: the same code of the same event always maps to one id."""
    return hashlib.sha256(f"{event_id}\n{code_key(code)}".encode()).hexdigest()[:32]


class Voucher(TableModel):
    Meta = table_meta("vouchers")

    event_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    code = UnicodeAttribute()  # as the organizer wrote it
    discount_type = UnicodeAttribute()  # percent | amount | price
    # percent: hundredths of a percent; amount and price: minor units of `currency_code`.
    value = NumberAttribute()
    # The event's currency when a money value was set. The event's currency may change later;
    # the figure then stays (5.00 EUR off becomes 5.00 USD off), as ticket prices' figures do.
    currency_code = UnicodeAttribute(null=True)
    max_uses = NumberAttribute(null=True)  # None: no limit
    uses = NumberAttribute(default=0)  # orders holding it or paid with it
    valid_until = UTCDateTimeAttribute(null=True)
    ticket_type_ids = UnicodeSetAttribute(null=True)  # None: every type of the event
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    def applies_to(self, ticket_type_id: str) -> bool:
        return not self.ticket_type_ids or ticket_type_id in self.ticket_type_ids
