"""Refunds of paid orders: never more than was paid, even under parallel requests.

Each refund is first recorded on the order in one transaction whose condition is the refund
ceiling (`refunded_minor` can only grow to `paid_minor`), together with the tickets it cancels
and their stock returned. Only then is the money sent back through Stripe, with the refund's
id as idempotency key; a refund Stripe could not make yet stays `pending` and is tried again
when the order is read. Offline payments are recorded only.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import PynamoDBException
from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import ADMIN, BUYER, Principal
from chalicelib.db import transactions
from chalicelib.db.base import get_or_none, new_id, utcnow
from chalicelib.db.orders import (
    PAID,
    PARTIALLY_REFUNDED,
    REFUNDED,
    STRIPE,
    Order,
    Refund,
)
from chalicelib.db.tickets import LIVE, Ticket
from chalicelib.errors import (
    AlreadyCheckedIn,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    TicketCancelled,
)
from chalicelib.money import to_minor
from chalicelib.payments import stripe_api
from chalicelib.payments.base import PaymentProviderUnavailable
from chalicelib.services.sales import inventory, stock, vouchers
from chalicelib.services.stream.changes import record as record_change

log = logging.getLogger(__name__)

# Refunds one order keeps (each is a few hundred bytes of the order's item).
MAX_REFUNDS_PER_ORDER = 50
# Parallel refunds of one order contend only near the ceiling; each retry reads again.
REFUND_ATTEMPTS = 8
PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"
# A pending refund younger than this may still be in its own request's hands.
RETRY_PENDING_AFTER = timedelta(minutes=1)


class RefundExceedsPayment(Conflict):
    code = "refund_exceeds_payment"
    message = "That is more than is left to refund on this order."


# More conditions for a refund's transaction, from the caller (a buyer's cancellation window).
Extra = Callable[[TransactWrite], None]


@dataclass(frozen=True)
class Plan:
    amount_minor: int
    tickets: list[Ticket]
    finishing: bool  # after it, everything paid has been refunded
    refunded_before: int
    paid: int


def paid_of(order: Order) -> int:
    return int(order.paid_minor if order.paid_minor is not None else order.total_minor)


def refunded_of(order: Order) -> int:
    return int(order.refunded_minor or 0)


def refund_order(
    *,
    actor: Principal,
    order_id: str,
    amount: str | None,
    ticket_ids: list[str] | None,
    reason: str | None,
) -> tuple[Order, Refund]:
    """An organizer (of the order's event) or an admin refunds a paid order: all that is left
    by default, some tickets (their price by default), or an amount (a decimal string in the
    order's currency)."""
    order = _order(order_id)
    if not (actor.role == ADMIN or actor.user_id == order.organizer_id):
        raise Forbidden()
    amount_minor = None
    if amount is not None:
        try:
            amount_minor = to_minor(amount, order.currency_code)
        except ValueError as exc:
            raise InvalidRequest(details={"amount": str(exc)}) from None
    return _refund(order, actor, amount_minor, ticket_ids, reason, source="organizer")


def refund_cancelled_ticket(
    *, actor: Principal, ticket: Ticket, also: Extra | None = None
) -> tuple[Order, Refund]:
    """A buyer's own cancellation of a ticket paid by card: the ticket cancelled and its price
    refunded in one go (`also` adds the caller's own conditions to that transaction)."""
    if actor.role != BUYER or ticket.buyer_id != actor.user_id or not ticket.order_id:
        raise Forbidden()
    order = _order(ticket.order_id)
    # Its price, or what is left of the payment if an organizer already gave some back.
    amount = min(ticket.price_minor, paid_of(order) - refunded_of(order))
    return _refund(order, actor, max(amount, 0), [ticket.id], None, source="buyer", also=also)


@dataclass(frozen=True)
class TicketRefund:
    """A refund recorded with a ticket's cancellation (added by the cancelling transaction)."""

    order: Order
    plan: Plan
    entry: Refund


def offline_ticket_refund(ticket: Ticket, source: str) -> TicketRefund | None:
    """Cancelling a ticket of an order paid outside the API records a refund of its price (the
    money goes back the way it came, outside the API); None when nothing is left to refund."""
    order = get_or_none(Order, ticket.order_id, consistent_read=True) if ticket.order_id else None
    if order is None or order.status not in (PAID, PARTIALLY_REFUNDED) or order.paid_intent_id:
        return None
    paid, refunded = paid_of(order), refunded_of(order)
    amount = min(int(ticket.price_minor), paid - refunded)
    if amount <= 0:
        return None
    plan = Plan(amount, [ticket], refunded + amount == paid, refunded, paid)
    entry = Refund(id=new_id(), amount_minor=amount, status=SUCCEEDED, source=source,
                   ticket_ids=[ticket.id], created_at=utcnow())  # fmt: skip
    return TicketRefund(order, plan, entry)


def paid_by_card(ticket: Ticket) -> bool:
    """Whether cancelling this ticket must give money back through Stripe."""
    if not ticket.order_id:
        return False
    order = get_or_none(Order, ticket.order_id, consistent_read=True)
    return order is not None and order.paid_intent_id is not None


def _order(order_id: str) -> Order:
    order = get_or_none(Order, order_id, consistent_read=True)
    if order is None:
        raise NotFound()
    return order


def _refund(
    order: Order,
    actor: Principal,
    amount_minor: int | None,
    ticket_ids: list[str] | None,
    reason: str | None,
    *,
    source: str,
    also: Extra | None = None,
) -> tuple[Order, Refund]:
    for attempt in range(REFUND_ATTEMPTS):
        plan = _plan(order, amount_minor, ticket_ids)
        online = order.paid_intent_id is not None and plan.amount_minor > 0
        entry = Refund(
            id=new_id(), amount_minor=plan.amount_minor,
            status=PENDING if online else SUCCEEDED, source=source, reason=reason,
            ticket_ids=[t.id for t in plan.tickets] or None, created_at=utcnow(),
        )  # fmt: skip
        if _write(order, plan, entry, actor, also):
            break
        time.sleep(random.uniform(0, 0.02 * (attempt + 1)))  # noqa: S311 - jitter, not secrets
        order = _order(order.id)
    else:
        raise ServiceUnavailable(
            "The refund could not be recorded; try again.", code="storage_busy"
        )
    if online:
        marked = _make(order, entry)
        if marked is not None:
            return marked
    return _order(order.id), entry


def _plan(order: Order, amount_minor: int | None, ticket_ids: list[str] | None) -> Plan:
    """What this refund gives back, checked against the order as read (the write checks the
    ceiling again, against the order as it is then)."""
    # Tickets of an order whose money all went back may still be cancelled, for nothing more.
    cancelling_only = amount_minor == 0 and bool(ticket_ids)
    if order.status == REFUNDED and not cancelling_only:
        raise RefundExceedsPayment("Everything paid for this order has been refunded.")
    if order.status not in (PAID, PARTIALLY_REFUNDED, REFUNDED):
        raise Conflict(
            f"Only a paid order can be refunded; this one is {order.status}.",
            code="order_not_paid",
            details={"status": order.status},
        )
    if len(order.refunds or []) >= MAX_REFUNDS_PER_ORDER:
        raise Conflict(
            f"An order keeps at most {MAX_REFUNDS_PER_ORDER} refunds.", code="too_many_refunds"
        )
    paid, refunded = paid_of(order), refunded_of(order)
    left = paid - refunded
    tickets = _tickets_to_cancel(order, ticket_ids, whole=amount_minor is None)
    if amount_minor is None:
        amount_minor = left if ticket_ids is None else sum(t.price_minor for t in tickets)
    if amount_minor > left:
        raise RefundExceedsPayment(details={"left": str(left)})
    if amount_minor <= 0 and not tickets:
        raise InvalidRequest(details={"amount": "Give an amount above 0, or tickets."})
    return Plan(amount_minor, tickets, refunded + amount_minor == paid, refunded, paid)


def _tickets_to_cancel(order: Order, ticket_ids: list[str] | None, *, whole: bool) -> list[Ticket]:
    """The named tickets (each the order's, live, not used), or, refunding the whole order,
    every live ticket not yet used. An amount alone cancels nothing."""
    if ticket_ids is None and not whole:
        return []
    ids = list(dict.fromkeys(ticket_ids)) if ticket_ids is not None else order.ticket_ids or []
    strangers = [i for i in ids if i not in (order.ticket_ids or [])]
    if strangers:
        raise InvalidRequest(details={"ticket_ids": "Only this order's tickets."})
    found = {t.id: t for t in Ticket.batch_get(ids)} if ids else {}
    tickets = [found[i] for i in ids if i in found]
    if ticket_ids is None:
        return [t for t in tickets if not t.is_cancelled and not t.is_checked_in]
    for ticket in tickets:
        if ticket.is_cancelled:
            raise TicketCancelled(details={"ticket_id": ticket.id})
        if ticket.is_checked_in:
            raise AlreadyCheckedIn(ticket.checked_in_at)
    return tickets


def attribute(order: Order, amount: int, tickets: list[Ticket]) -> dict[int, int]:
    """Which of the order's lines a refund of `amount` gives money back for (line index ->
    minor units): each cancelled ticket's own price to its line first, the rest to the lines
    in order, none past what it paid. The report's `refunded` per ticket type follows this."""
    room = [
        line.paid_unit_minor * int(line.quantity) - int(line.refunded_minor or 0)
        for line in order.items
    ]
    index = {line.ticket_type_id: i for i, line in enumerate(order.items)}
    given = [0] * len(room)
    left = amount
    for ticket in tickets:
        i = index.get(ticket.ticket_type_id or order.event_id)
        if i is not None:
            take = max(0, min(int(ticket.price_minor), room[i] - given[i], left))
            given[i] += take
            left -= take
    for i in range(len(room)):
        take = max(0, min(room[i] - given[i], left))
        given[i] += take
        left -= take
    if left > 0 and given:  # refunds recorded before lines kept count: the first line takes it
        given[0] += left
    return {i: g for i, g in enumerate(given) if g}


def add_order_refund(tx: TransactWrite, order: Order, plan: Plan, entry: Refund) -> dict[str, int]:
    """The refund recorded on the order, under the refund ceiling (a refund that leaves
    something is conditional on leaving it; the one that finishes, on exactly what it
    finishes) and on each line it gives back for as read. Returns the money given back per
    ticket type, for the counters the caller updates in the same transaction."""
    now = entry.created_at
    amount = plan.amount_minor
    if amount == 0:
        # Nothing paid back: the tickets' own conditions are all there is to check.
        condition = Order.status.is_in(PAID, PARTIALLY_REFUNDED, REFUNDED)
    elif plan.finishing:
        condition = Order.status.is_in(PAID, PARTIALLY_REFUNDED)
        exact = Order.refunded_minor == plan.refunded_before
        condition &= exact if plan.refunded_before else (
            Order.refunded_minor.does_not_exist() | exact
        )  # fmt: skip
    else:
        condition = Order.status.is_in(PAID, PARTIALLY_REFUNDED) & (
            Order.refunded_minor.does_not_exist() | (Order.refunded_minor <= plan.paid - amount - 1)
        )
    actions = [
        Order.refunded_minor.add(amount),
        Order.refunds.set((Order.refunds | []).append([entry])),
        Order.updated_at.set(now),
    ]
    if amount > 0:  # with nothing paid back, the status stays whatever it is at write time
        actions.append(Order.status.set(REFUNDED if plan.finishing else PARTIALLY_REFUNDED))
    per_line = attribute(order, amount, plan.tickets)
    actions_, condition = _line_refunds(order, per_line, condition)
    tx.update(order, actions=actions + actions_, condition=condition)
    if amount > 0 and plan.finishing and order.voucher_id:
        vouchers.add_return(tx, order.event_id, order.voucher_id)
    return by_type(order, per_line)


def by_type(order: Order, per_line: dict[int, int]) -> dict[str, int]:
    """Money given back per line (as `attribute` puts it) as money per ticket type."""
    per_type: dict[str, int] = {}
    for i, given in per_line.items():
        type_id = order.items[i].ticket_type_id
        per_type[type_id] = per_type.get(type_id, 0) + given
    return per_type


def _line_refunds(order: Order, per_line: dict[int, int], condition: Any) -> tuple[list, Any]:
    """Each line's refunded count moved on, conditional on the count read: two refunds at once
    cannot both give the same line's money back."""
    actions = []
    for i, given in per_line.items():
        path = Order.items[i]["refunded_minor"]
        before = order.items[i].refunded_minor
        actions.append(path.set(int(before or 0) + given))
        condition &= path.does_not_exist() if before is None else path == before
    return actions, condition


def _write(order: Order, plan: Plan, entry: Refund, actor: Principal, also: Extra | None) -> bool:
    """The refund recorded, its tickets cancelled and their stock back, the report's counters
    moved: one transaction, refused if the refund would take the order past what was paid."""
    now = entry.created_at

    def build(tx: TransactWrite) -> None:
        refunded = add_order_refund(tx, order, plan, entry)
        _give_back(tx, order, plan.tickets, refunded, now)
        if also is not None:
            also(tx)
        record_refund(tx, order, entry, actor=actor, tickets=[t.id for t in plan.tickets])

    return transactions.write_unless_refused(build)


def record_refund(
    tx: TransactWrite,
    order: Order,
    entry: Refund,
    *,
    actor: Principal | None = None,
    tickets: list[str] | None = None,
) -> None:
    """The `order.refunded` change (audit entry, webhooks, the buyer's email) in the refund's
    own transaction; `tickets`: the ones it cancelled, when it cancels any it may."""
    details: dict = {"amount": entry.amount_minor, "source": entry.source}
    data: dict = {"order_id": order.id, "refund_id": entry.id, "buyer_id": order.buyer_id,
                  "seller_id": order.seller_id, "organizer_id": order.organizer_id}  # fmt: skip
    if tickets is not None:
        details["tickets"] = len(tickets)
        data["ticket_ids"] = tickets
    record_change(
        tx, "order.refunded", actor=actor, target_type="order", target_id=order.id,
        event_id=order.event_id, details=details, data=data,
    )  # fmt: skip


def _give_back(
    tx: TransactWrite,
    order: Order,
    tickets: list[Ticket],
    refunded: dict[str, int],
    now: datetime,
) -> None:
    """Tombstone the tickets (they fail check-in from now on) and give their seats back, with
    the money given back counted: one update per ticket, one for the seller's pool, one per
    ticket type."""
    if not tickets and not refunded:
        return
    for ticket in tickets:
        tx.update(
            ticket,
            actions=[Ticket.cancelled_at.set(now), Ticket.revoked_event_id.set(ticket.event_id)],
            condition=Ticket.id.exists() & LIVE & Ticket.checked_in_at.does_not_exist(),
        )
    per_type: dict[str, int] = {}
    for ticket in tickets:
        type_id = ticket.ticket_type_id or ticket.event_id
        per_type[type_id] = per_type.get(type_id, 0) + 1
    stock.add_release(
        tx, place=stock.place_of(order), event_id=order.event_id, seller_id=order.seller_id,
        by_reseller=order.by_reseller,
        lines=[inventory.Line(t, q) for t, q in per_type.items()], state=inventory.SOLD, now=now,
        refunded=refunded,
    )  # fmt: skip


def _make(order: Order, entry: Refund) -> tuple[Order, Refund] | None:
    """Send a recorded refund's money back through Stripe (its id the idempotency key) and mark
    it: the order as marked, or None when Stripe is unreachable (the refund stays pending and
    is made when the order is next read) or the mark must wait for that read."""
    try:
        made = stripe_api.refund(
            intent_id=order.paid_intent_id, amount_minor=entry.amount_minor, refund_id=entry.id
        )
    except PaymentProviderUnavailable:
        log.warning("refund %s of order %s left pending", entry.id, order.id)
        return None
    status = SUCCEEDED if made.status in ("succeeded", "pending") else FAILED
    return _mark(order.id, entry.id, status, made.id)


def _mark(
    order_id: str, refund_id: str, status: str, provider_refund_id: str
) -> tuple[Order, Refund] | None:
    """Set one refund's outcome, found by its id in a fresh read (its place in the list is
    fixed: refunds are only ever appended)."""
    order = _order(order_id)
    for index, entry in enumerate(order.refunds or []):
        if entry.id != refund_id:
            continue
        if entry.status != PENDING:
            return order, entry
        path = Order.refunds[index]
        try:
            order.update(
                actions=[path["status"].set(status),
                         path["provider_refund_id"].set(provider_refund_id)],
                condition=path["id"] == refund_id,
            )  # fmt: skip
        except PynamoDBException:
            log.exception("refund %s made but not marked; marked on the next read", refund_id)
            return None
        return order, order.refunds[index]
    return None


def retry_pending(order: Order) -> bool:
    """Make the card refunds a failed call to Stripe left pending (on reading the order)."""
    now = utcnow()
    pending = [
        r for r in order.refunds or []
        if r.status == PENDING and r.created_at <= now - RETRY_PENDING_AFTER
    ]  # fmt: skip
    if not pending or order.paid_intent_id is None or order.payment_provider != STRIPE:
        return False
    for entry in pending:
        _make(order, entry)
    return True


def record_provider_refunds(
    order: Order, new: list[Refund], *, stripe_event_id: str | None
) -> None:
    """Refunds made in Stripe's dashboard, recorded as given back (money only: the tickets
    stay valid until an organizer cancels them). Stripe enforces its own ceiling there."""
    from chalicelib.services.sales.payments import claim_event

    amount = sum(r.amount_minor for r in new)
    now = utcnow()
    status = REFUNDED if refunded_of(order) + amount >= paid_of(order) else PARTIALLY_REFUNDED

    per_line = attribute(order, amount, [])
    line_actions, condition = _line_refunds(order, per_line, Order.updated_at == order.updated_at)
    refunded = by_type(order, per_line)

    def build(tx: TransactWrite) -> None:
        tx.update(
            order,
            actions=[
                Order.refunded_minor.add(amount), Order.status.set(status),
                Order.refunds.set((Order.refunds | []).append(new)),
                Order.updated_at.set(now), *line_actions,
            ],
            condition=condition,
        )  # fmt: skip
        if order.paid_at is not None:  # counted in the report's gross: its refunds are too
            _give_back(tx, order, [], refunded, now)
        if status == REFUNDED and order.status != REFUNDED and order.voucher_id:
            vouchers.add_return(tx, order.event_id, order.voucher_id)
        for entry in new:
            record_refund(tx, order, entry)
        claim_event(tx, stripe_event_id, order, now)

    if not transactions.write_unless_refused(build):
        # The order changed meanwhile (or this event was handled): Stripe delivers it again.
        raise ServiceUnavailable("The order changed; deliver the event again.", code="retry")


def list_refunds(order: Order) -> list[Refund]:
    return list(order.refunds or [])
