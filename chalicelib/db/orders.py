"""Orders: one buyer's purchase from one seller for one event, of one or more ticket types.

A reserved order holds its stock until `expires_at`; while it does, it carries `due_minute`
(the minute it expires, "2026-12-04T15:07"), which puts it in a sparse index that the expiry
sweep reads minute by minute. Ending the order removes the attribute, so the sweep costs what
has expired, never what was ever ordered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.db import index_parts
from chalicelib.db.base import TableModel, table_meta, utcnow
from chalicelib.db.tickets import Holder

RESERVED = "reserved"
PAID = "paid"
EXPIRED = "expired"
CANCELLED = "cancelled"
PARTIALLY_REFUNDED = "partially_refunded"
REFUNDED = "refunded"
STATUSES = (RESERVED, PAID, EXPIRED, CANCELLED, PARTIALLY_REFUNDED, REFUNDED)
# Statuses of an order whose money was taken (its tickets, if any left, valid).
SETTLED = (PAID, PARTIALLY_REFUNDED, REFUNDED)

STRIPE = "stripe"


def due_minute(at: datetime) -> str:
    """The expiry index's partition: the minute an order expires in (UTC)."""
    return at.strftime("%Y-%m-%dT%H:%M")


class OrdersByEvent(GlobalSecondaryIndex["Order"]):
    class Meta:
        index_name = "event-part-index"
        projection = AllProjection()

    event_part = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class OrdersBySeller(GlobalSecondaryIndex["Order"]):
    class Meta:
        index_name = "seller-part-index"
        projection = AllProjection()

    seller_part = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class OrdersByOrganizer(GlobalSecondaryIndex["Order"]):
    class Meta:
        index_name = "organizer-part-index"
        projection = AllProjection()

    organizer_part = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class DueOrders(GlobalSecondaryIndex["Order"]):
    """Sparse: only reserved orders carry `due_minute`. One partition per minute, so the
    holds of a busy on-sale spread over many keys instead of one."""

    class Meta:
        index_name = "due-index"
        projection = AllProjection()

    due_minute = UnicodeAttribute(hash_key=True)
    expires_at = UTCDateTimeAttribute(range_key=True)


class OrderLine(MapAttribute):
    ticket_type_id = UnicodeAttribute()
    name = UnicodeAttribute()  # the type's name when ordered
    quantity = NumberAttribute()
    unit_price_minor = NumberAttribute()  # the server's price when ordered
    # Taken off each ticket of the line by the order's voucher (services/sales/vouchers.py).
    discount_minor = NumberAttribute(null=True)
    # Of what the line paid, how much its refunds gave back (services/sales/refunds.py).
    refunded_minor = NumberAttribute(null=True)

    @property
    def paid_unit_minor(self) -> int:
        """What one ticket of this line costs the buyer."""
        return int(self.unit_price_minor) - int(self.discount_minor or 0)


class Refund(MapAttribute):
    """Money given back on a paid order: recorded (status `pending`) in the same write that
    checks it against what is left to refund, then made through the provider."""

    id = UnicodeAttribute()
    amount_minor = NumberAttribute()
    status = UnicodeAttribute()  # pending | succeeded | failed
    # Who asked: organizer (an organizer or admin), buyer (a self-cancel), late_payment,
    # duplicate_payment, provider (made in Stripe's dashboard).
    source = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    ticket_ids = ListAttribute(of=UnicodeAttribute, null=True)
    provider_refund_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class Dispute(MapAttribute):
    id = UnicodeAttribute()
    amount_minor = NumberAttribute()
    reason = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class Order(TableModel):
    Meta = table_meta("orders")

    id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute()
    seller_id = UnicodeAttribute()
    # Whether the seller's pool is a reseller's (its shares are per ticket type).
    by_reseller = BooleanAttribute(default=False)
    organizer_id = UnicodeAttribute()
    buyer_id = UnicodeAttribute()
    holder = Holder()  # the name and phone given with the order, for its tickets
    status = UnicodeAttribute()
    items = ListAttribute(of=OrderLine)
    total_minor = NumberAttribute()
    # The voucher used (its use is given back when the order expires, is cancelled or is
    # refunded in full), and its code as the buyer typed it.
    voucher_id = UnicodeAttribute(null=True)
    voucher_code = UnicodeAttribute(null=True)
    currency_code = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)
    expires_at = UTCDateTimeAttribute(null=True)
    due_minute = UnicodeAttribute(null=True)
    paid_at = UTCDateTimeAttribute(null=True)
    ended_at = UTCDateTimeAttribute(null=True)  # when it expired or was cancelled
    ticket_ids = ListAttribute(of=UnicodeAttribute, null=True)
    # The buyer's reserved-orders counter for this event, given back when the hold ends.
    hold_counter = UnicodeAttribute(null=True)
    # Where its stock is counted (services/sales/stock.py): the stock shard it took from, if
    # any, and the types whose counts are there.
    stock_shard = NumberAttribute(null=True)
    stock_shard_types = UnicodeSetAttribute(null=True)
    # Its keys in the event, organizer and seller indexes: the ids, with a part suffix for an
    # order of a sharded sale (db/index_parts.py); `due_minute` takes one too.
    event_part = UnicodeAttribute(null=True)
    organizer_part = UnicodeAttribute(null=True)
    seller_part = UnicodeAttribute(null=True)
    # Card payment (online events): the provider's current attempt (a Stripe PaymentIntent)
    # and the secret Stripe.js confirms it with; `paid_intent_id` is the attempt that paid.
    payment_provider = UnicodeAttribute(null=True)
    payment_intent_id = UnicodeAttribute(null=True)
    client_secret = UnicodeAttribute(null=True)
    paid_intent_id = UnicodeAttribute(null=True)
    payment_attempts = NumberAttribute(null=True)  # intents made so far (a tried one is not reused)
    # What was paid, and how much of it has been given back (never more: a write condition).
    paid_minor = NumberAttribute(null=True)
    refunded_minor = NumberAttribute(null=True)
    refunds = ListAttribute(of=Refund, null=True)
    # A payment that came after the hold ended and found the stock gone: set before refunding
    # it, so the stock is never taken again for money on its way back.
    late_refund_intent = UnicodeAttribute(null=True)
    dispute = Dispute(null=True)
    # An offer to someone on the waiting list: its entry follows the order's end.
    waiting_entry_id = UnicodeAttribute(null=True)

    by_event = OrdersByEvent()
    by_seller = OrdersBySeller()
    by_organizer = OrdersByOrganizer()
    due = DueOrders()

    def __init__(self, hash_key: Any = None, range_key: Any = None,
                 _user_instantiated: bool = True, **attributes: Any) -> None:  # fmt: skip
        super().__init__(hash_key, range_key, _user_instantiated, **attributes)
        if _user_instantiated:
            self.spread_index_keys()

    def spread_index_keys(self) -> None:
        """Its index keys for its stock shard (the plain ids when it has none)."""
        index_parts.spread(self)
        if self.due_minute is not None:
            minute = self.due_minute.partition("#")[0]
            self.due_minute = index_parts.part(minute, self.stock_shard, index_parts.DUE_PARTS)

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.items)
