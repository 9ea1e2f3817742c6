"""Card payments of reserved orders: opening a PaymentIntent, paying on the checkout page, and
settling what Stripe reports, by webhook or when asked, exactly once.

The buyer's browser is never proof of payment: an order turns paid only from a verified webhook
or from Stripe's own answer to the server. Both run `settle`, whose writes are conditional on
the order's status, so whichever comes second changes nothing, and no lock is ever held (so the
webhook and the buyer's own payment can't deadlock each other).

A payment that arrives after the hold ended (late) takes the stock again if every limit still
allows, else is refunded in full. The order is marked before the refund is asked for, so stock
is never taken again for money on its way back: there is no state in which money was taken and
neither tickets nor a refund exist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import ORDER_ROLES, Principal, authenticate
from chalicelib.auth.tokens import issue_checkout_token
from chalicelib.db import transactions
from chalicelib.db.base import get_or_none, utcnow
from chalicelib.db.events import Event
from chalicelib.db.orders import (
    CANCELLED,
    EXPIRED,
    PAID,
    REFUNDED,
    RESERVED,
    SETTLED,
    STRIPE,
    Dispute,
    Order,
    Refund,
)
from chalicelib.db.rate_limits import RateCounter
from chalicelib.db.tickets import Ticket
from chalicelib.db.uniques import UniqueClaim, unique_key
from chalicelib.db.vouchers import Voucher
from chalicelib.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
)
from chalicelib.payments import stripe_api
from chalicelib.payments.base import (
    REQUIRES_CONFIRMATION,
    REQUIRES_PAYMENT_METHOD,
    SUCCEEDED,
    Intent,
    PaymentProviderUnavailable,
    ProviderEvent,
)
from chalicelib.services.sales import inventory, refunds, stock, vouchers, waiting_list
from chalicelib.services.sales.orders import (
    STOCK_MOVES,
    PlacedOrder,
    end_hold,
    get_order,
    issue_tickets,
    lines_of,
    money_of,
    record_sale,
    tickets_of,
)
from chalicelib.services.stream.changes import record as record_change
from chalicelib.settings import get_settings

log = logging.getLogger(__name__)

# Each settling write is conditional on the order's status; a refused one re-reads the order
# and decides again, at most this often (another path changed it in between).
SETTLE_ATTEMPTS = 4
# How long after a hold ended reading the order still asks Stripe about its payment (a late
# payment whose webhook is slow). Stripe itself retries webhooks for three days.
LATE_POLL_WINDOW = timedelta(days=1)
STRIPE_EVENT = "stripe-event"
PAYMENT_REFUND = "payment-refund"

# What settle did.
SETTLED_NOW = "paid"
ALREADY = "already"
REFUNDED_LATE = "refunded"


class PaymentMismatch(InvalidRequest):
    code = "payment_mismatch"
    message = "The payment's amount or currency is not the order's."


class UnknownOrder(NotFound):
    code = "unknown_order"
    message = "The payment names no order of this API."


@dataclass(frozen=True)
class PayResult:
    order: Order
    # Stripe.js must finish the payment in the browser (3-D Secure): the intent's secret.
    action_secret: str | None = None


# --- opening a payment ----------------------------------------------------------------------


def checkout_url(order: Order) -> str | None:
    """Our checkout page for a reserved order (its link carries a token for this order only,
    valid a day past the hold)."""
    if order.status != RESERVED or order.expires_at is None:
        return None
    token = issue_checkout_token(order_id=order.id, expires_at=order.expires_at).auth_token
    return f"{get_settings().app_url}/orders/{order.id}/pay?token={token}"


def start_payment(order: Order) -> Order:
    """Give a reserved online order its PaymentIntent (one Stripe call, one write). Stripe being
    unreachable leaves the order without one; the checkout page opens it later."""
    if order.status != RESERVED or order.payment_provider != STRIPE or order.payment_intent_id:
        return order
    try:
        return _open_intent(order, replacing=None)
    except PaymentProviderUnavailable:
        log.warning("order %s: no PaymentIntent yet (Stripe unreachable)", order.id)
        return order


def _open_intent(order: Order, *, replacing: str | None) -> Order:
    """A new PaymentIntent for the order, stored unless another request stored one first.

    Its idempotency key is derived from the order and the attempt, so Stripe makes one intent
    per attempt however often this is retried; the conditional write makes the order keep one
    even where Stripe does not (the local fake ignores idempotency keys)."""
    attempt = (order.payment_attempts or 0) + 1
    intent = stripe_api.create_intent(
        order_id=order.id,
        event_id=order.event_id,
        amount_minor=order.total_minor,
        currency_code=order.currency_code,
        idempotency_key=f"order-{order.id}-{attempt}",
    )
    condition = Order.status == RESERVED
    if replacing is None:
        condition &= Order.payment_intent_id.does_not_exist()
    else:
        condition &= Order.payment_intent_id == replacing
    stored = _update_unless_refused(
        order,
        [Order.payment_intent_id.set(intent.id), Order.client_secret.set(intent.client_secret),
         Order.payment_attempts.set(attempt)],
        condition,
    )  # fmt: skip
    if stored:
        return order  # the update wrote these on the item and on `order` alike
    order.refresh(consistent_read=True)
    if order.payment_intent_id != intent.id:
        _cancel_quietly(intent.id)  # another request's intent is the order's
    return order


def _cancel_quietly(intent_id: str) -> None:
    try:
        stripe_api.cancel_intent(intent_id)
    except PaymentProviderUnavailable:
        log.warning("intent %s left open; nobody holds its secret", intent_id)


def _update_unless_refused(order: Order, actions: list, condition: object) -> bool:
    from pynamodb.exceptions import UpdateError

    try:
        order.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if transactions.condition_failed(exc):
            return False
        raise
    return True


# --- reading and paying an order -------------------------------------------------------------


def read_order(*, actor: Principal, order_id: str) -> PlacedOrder:
    """GET /orders/{id}: the order as `orders.get_order` reads it, with a payment under way
    asked about at Stripe and card refunds left pending tried again."""
    order = get_order(actor=actor, order_id=order_id).order
    order = poll(order)
    if refunds.retry_pending(order):
        order = _reread(order)
    return PlacedOrder(order=order, tickets=tickets_of(order))


@dataclass(frozen=True)
class CheckoutView:
    order: Order
    tickets: list[Ticket]
    event_title: str
    now: datetime


def checkout_view(*, order_id: str, token: str) -> CheckoutView:
    """What the checkout page shows, for the holder of the order's checkout link (or token):
    the order as Stripe and the clock leave it now."""
    if not token:
        raise Unauthorized()
    actor = authenticate(f"Bearer {token}")
    if actor.role not in ORDER_ROLES or actor.user_id != order_id:
        raise Forbidden()
    found = read_order(actor=actor, order_id=order_id)
    event = get_or_none(Event, found.order.event_id)
    return CheckoutView(
        order=found.order, tickets=found.tickets, event_title=event.title if event else "",
        now=utcnow(),
    )  # fmt: skip


def pay_order(*, actor: Principal, order_id: str, card_token: str) -> PayResult:
    """POST /orders/{id}/pay, for the holder of the order's token or checkout link only."""
    if actor.role not in ORDER_ROLES or actor.user_id != order_id:
        raise Forbidden()
    order = get_or_none(Order, order_id, consistent_read=True)
    if order is None:
        raise NotFound()
    return pay(order, card_token)


def pay(order: Order, card_token: str) -> PayResult:
    """Pay a reserved order with a card Stripe.js tokenised in the buyer's browser.

    A decline raises CardDeclined (402) and leaves the order reserved for another try, which
    gets a fresh intent (a tried one is not reused). Success is settled at once from Stripe's
    own answer; the webhook that follows then changes nothing."""
    order = _still_payable(order)
    intent = stripe_api.get_intent(order.payment_intent_id) if order.payment_intent_id else None
    if intent is not None and intent.status == SUCCEEDED:
        settle(order, intent)
        return PayResult(_reread(order))
    if intent is None or (intent.tried and intent.status == REQUIRES_PAYMENT_METHOD):
        old = intent.id if intent else None
        order = _open_intent(order, replacing=old)
        if old is not None and order.payment_intent_id != old:
            _cancel_quietly(old)
    elif intent.status not in (REQUIRES_PAYMENT_METHOD, REQUIRES_CONFIRMATION):
        # Already confirmed and under way (3-D Secure, processing): the page waits for it.
        return PayResult(order, action_secret=intent.client_secret)
    intent = stripe_api.pay_with_card(order.payment_intent_id, card_token)
    if intent.status == SUCCEEDED:
        settle(order, intent)
        return PayResult(_reread(order))
    return PayResult(_reread(order), action_secret=intent.client_secret)


def _still_payable(order: Order) -> Order:
    if order.status == RESERVED and order.expires_at <= utcnow():
        end_hold(order, EXPIRED, actor=None)
        order = _reread(order)
    if order.status != RESERVED:
        raise Conflict(
            f"This order can no longer be paid; it is {order.status}.",
            code="order_not_reserved",
            details={"status": order.status},
        )
    if order.payment_provider != STRIPE:
        raise Conflict("This order is not paid by card.", code="not_paid_online")
    return order


def _reread(order: Order) -> Order:
    found = get_or_none(Order, order.id, consistent_read=True)
    if found is None:
        raise NotFound()
    return found


def poll(order: Order) -> Order:
    """Ask Stripe about a payment under way and settle it as the webhook would: a lost webhook
    only delays the order's answer. A hold that ended recently is asked about too, for a late
    payment whose webhook has not come."""
    if order.payment_provider != STRIPE or not order.payment_intent_id:
        return order
    if order.status in (EXPIRED, CANCELLED):
        if order.late_refund_intent or not order.ended_at:
            return order
        if order.ended_at < utcnow() - LATE_POLL_WINDOW:
            return order
    elif order.status != RESERVED:
        return order
    try:
        intent = stripe_api.get_intent(order.payment_intent_id)
    except PaymentProviderUnavailable:
        return order  # the answer as stored; the webhook or the next read settles it
    if intent.status != SUCCEEDED:
        return order
    settle(order, intent)
    return _reread(order)


# --- settling a payment ---------------------------------------------------------------------


def settle(order: Order, intent: Intent, *, stripe_event_id: str | None = None) -> str:
    """Make the order paid by `intent` (succeeded), exactly once: `paid` (tickets issued),
    `already` (an earlier delivery or the poll did it), or `refunded` (late, with the stock
    gone; or a second payment of an order already paid)."""
    if intent.status != SUCCEEDED:
        raise InvalidRequest("The payment has not succeeded.", code="payment_not_succeeded")
    if (
        intent.order_id != order.id
        or intent.amount_minor != order.total_minor
        or intent.currency_code != order.currency_code
    ):
        log.error("intent %s does not match order %s", intent.id, order.id)
        raise PaymentMismatch()
    for _ in range(SETTLE_ATTEMPTS):
        now = utcnow()
        if order.status == RESERVED:
            if _write_paid(order, intent, stripe_event_id, now, late=False):
                return SETTLED_NOW
        elif order.status in SETTLED:
            if order.paid_intent_id == intent.id:
                return ALREADY
            return _refund_second_payment(order, intent, stripe_event_id)
        elif order.late_refund_intent == intent.id:
            _finish_late_refund(order, intent, stripe_event_id)
            return REFUNDED_LATE
        elif order.late_refund_intent is None:
            event = _retake_event(order, now)
            if event is not None and _write_late(order, intent, stripe_event_id, now, event):
                return SETTLED_NOW
            if _mark_late_refund(order, intent):
                _finish_late_refund(_reread(order), intent, stripe_event_id)
                return REFUNDED_LATE
        else:
            # Another payment of this ended order is being refunded; this one is a second.
            return _refund_second_payment(order, intent, stripe_event_id)
        order = _reread(order)
    raise ServiceUnavailable(
        "The payment could not be recorded yet; try again.", code="storage_busy"
    )


def claim_event(
    tx: TransactWrite, stripe_event_id: str | None, order: Order, now: datetime
) -> None:
    """The Stripe event's id, kept for good in the write that acts on it: a redelivery is
    refused by this condition even where the order's status would not tell."""
    if stripe_event_id is not None:
        tx.save(
            UniqueClaim(
                key=unique_key(STRIPE_EVENT, stripe_event_id), owner_id=order.id, created_at=now
            ),
            condition=UniqueClaim.key.does_not_exist(),
        )


def _write_late(
    order: Order, intent: Intent, stripe_event_id: str | None, now: datetime, event: Event
) -> bool:
    """A late payment takes its stock again as a new order would: from a shard of the open
    lane, another, or the base once a rebalance gathered it there."""
    lines = lines_of(order)
    place = stock.first_place(event, lines, by_reseller=order.by_reseller)
    for _ in range(STOCK_MOVES + 1):
        if _write_paid(order, intent, stripe_event_id, now, late=True, place=place):
            return True
        moved = stock.after_refusal(event, place, lines, by_reseller=order.by_reseller)
        if moved is None:
            return False
        place = moved
    return False


def _write_paid(
    order: Order,
    intent: Intent,
    stripe_event_id: str | None,
    now: datetime,
    *,
    late: bool,
    place: stock.Place = stock.BASE,
) -> bool:
    """One transaction: the order paid, its tickets issued, their stock sold (held stock for a
    reserved order, where it was taken; taken again at `place`, against every limit, for a late
    payment), announced."""
    if late:
        stock.record_place(order, place)
    tickets = issue_tickets(order, now)

    def build(tx: TransactWrite) -> None:
        if late:
            condition = (
                Order.status.is_in(EXPIRED, CANCELLED)
                & Order.late_refund_intent.does_not_exist()
                & Order.paid_intent_id.does_not_exist()
            )
            stock.add_take(
                tx, place=place, event_id=order.event_id, seller_id=order.seller_id,
                by_reseller=order.by_reseller, must_be_on_sale=True, lines=lines_of(order),
                state=inventory.SOLD, now=now, money=money_of(order, online=True),
            )  # fmt: skip
            if order.voucher_id:  # its use went back when the hold ended: taken again too
                vouchers.add_use(tx, Voucher(event_id=order.event_id, id=order.voucher_id), now)
        else:
            condition = Order.status == RESERVED
            stock.add_settle(
                tx, place=stock.place_of(order), event_id=order.event_id,
                seller_id=order.seller_id,
                by_reseller=order.by_reseller, lines=lines_of(order), now=now,
                money=money_of(order, online=True),
            )  # fmt: skip
            if order.hold_counter:
                tx.update(
                    RateCounter(key=order.hold_counter),
                    actions=[RateCounter.hits.add(-1)],
                    condition=RateCounter.hits >= 1,
                )
        actions = [
            Order.status.set(PAID), Order.paid_at.set(now), Order.updated_at.set(now),
            Order.due_minute.remove(), Order.ended_at.remove(),
            Order.ticket_ids.set(order.ticket_ids), Order.paid_intent_id.set(intent.id),
            Order.paid_minor.set(intent.amount_minor),
        ]  # fmt: skip
        if late:  # taken again, maybe elsewhere: its settle and releases follow the new place
            actions += [
                Order.stock_shard.set(place.shard) if place.shard is not None
                else Order.stock_shard.remove(),
                Order.stock_shard_types.set(set(place.shard_types)) if place.shard_types
                else Order.stock_shard_types.remove(),
            ]  # fmt: skip
        tx.update(order, actions=actions, condition=condition)
        for ticket in tickets:
            tx.save(ticket, condition=Ticket.id.does_not_exist())
        waiting_list.add_order_end(tx, order, paid=True)
        record_sale(tx, actor=None, order=order)
        claim_event(tx, stripe_event_id, order, now)

    return transactions.write_unless_refused(build)


def _retake_event(order: Order, now: datetime) -> Event | None:
    """The event, if a late payment may take stock again: only for an event still to come
    (the stock's own limits are the transaction's conditions)."""
    event = get_or_none(Event, order.event_id, consistent_read=True)
    return event if event is not None and event.time > now else None


def _mark_late_refund(order: Order, intent: Intent) -> bool:
    """Decide, durably, that this late payment goes back: after this no write takes stock for
    it, whatever comes back on sale meanwhile."""
    return _update_unless_refused(
        order,
        [Order.late_refund_intent.set(intent.id), Order.updated_at.set(utcnow())],
        Order.status.is_in(EXPIRED, CANCELLED)
        & Order.late_refund_intent.does_not_exist()
        & Order.paid_intent_id.does_not_exist(),
    )


def _refund_in_full(intent: Intent, refund_id: str, source: str, reason: str) -> Refund:
    """Give a whole payment back through Stripe (once per `refund_id`, however often this
    runs), as the refund entry to record on the order."""
    made = stripe_api.refund(
        intent_id=intent.id, amount_minor=intent.amount_minor, refund_id=refund_id
    )
    return Refund(
        id=refund_id, amount_minor=intent.amount_minor, status=made.status, source=source,
        reason=reason, provider_refund_id=made.id, created_at=utcnow(),
    )  # fmt: skip


def _finish_late_refund(order: Order, intent: Intent, stripe_event_id: str | None) -> None:
    """Refund the late payment in full through Stripe (once per intent, however often this
    runs), then record it: the order `refunded`, the buyer told why by email."""
    entry = _refund_in_full(
        intent, f"late-{intent.id}", "late_payment", "The hold had ended and the tickets were sold."
    )
    now = entry.created_at

    def build(tx: TransactWrite) -> None:
        tx.update(
            order,
            actions=[
                Order.status.set(REFUNDED), Order.updated_at.set(now),
                Order.paid_intent_id.set(intent.id), Order.paid_minor.set(intent.amount_minor),
                Order.refunded_minor.set(intent.amount_minor),
                Order.refunds.set((Order.refunds | []).append([entry])),
            ],
            condition=(Order.late_refund_intent == intent.id)
            & Order.status.is_in(EXPIRED, CANCELLED),
        )  # fmt: skip
        refunds.record_refund(tx, order, entry)
        claim_event(tx, stripe_event_id, order, now)

    transactions.write_unless_refused(build)


def _refund_second_payment(order: Order, intent: Intent, stripe_event_id: str | None) -> str:
    """A second successful payment of one order (two tabs, an old intent's secret): it buys
    nothing, so it goes back in full, recorded once on the order."""
    entry = _refund_in_full(
        intent, f"second-{intent.id}", "duplicate_payment", "The order was already paid."
    )
    refund_id, now = entry.id, entry.created_at

    def build(tx: TransactWrite) -> None:
        tx.save(
            UniqueClaim(key=unique_key(PAYMENT_REFUND, refund_id), owner_id=order.id,
                        created_at=now),
            condition=UniqueClaim.key.does_not_exist(),
        )  # fmt: skip
        tx.update(
            order,
            actions=[Order.refunds.set((Order.refunds | []).append([entry])),
                     Order.updated_at.set(now)],
            condition=Order.updated_at == order.updated_at,
        )  # fmt: skip
        claim_event(tx, stripe_event_id, order, now)

    if not transactions.write_unless_refused(build):
        log.info("second payment %s of order %s: refund already recorded", intent.id, order.id)
    return REFUNDED_LATE


# --- Stripe's webhook -------------------------------------------------------------------------


def handle_event(event: ProviderEvent) -> str:
    """Act on a verified Stripe event once; types we do not use are answered and ignored."""
    handler = _HANDLERS.get(event.type)
    if handler is None:
        return "ignored"
    return handler(event)


def _on_succeeded(event: ProviderEvent) -> str:
    raw = event.object
    intent = _intent_from(raw)
    order = get_or_none(Order, intent.order_id, consistent_read=True) if intent.order_id else None
    if order is None:
        raise UnknownOrder()
    return settle(order, intent, stripe_event_id=event.id)


def _intent_from(raw: dict) -> Intent:
    try:
        return Intent(
            id=str(raw["id"]),
            status=str(raw["status"]),
            amount_minor=int(raw["amount"]),
            currency_code=str(raw["currency"]).upper(),
            client_secret=str(raw.get("client_secret") or ""),
            order_id=(raw.get("metadata") or {}).get("order_id"),
        )
    except (KeyError, TypeError, ValueError):
        raise InvalidRequest("The event carries no PaymentIntent.") from None


def _order_of_payment(raw: dict) -> Order | None:
    """The order a charge or dispute belongs to, through its PaymentIntent's metadata: None for
    a payment that did not pay it (a second payment, refunded already); UnknownOrder for a
    payment of no order of ours."""
    intent_id = raw.get("payment_intent")
    if not isinstance(intent_id, str) or not intent_id:
        raise UnknownOrder()
    intent = stripe_api.get_intent(intent_id)
    order = get_or_none(Order, intent.order_id, consistent_read=True) if intent.order_id else None
    if order is None:
        raise UnknownOrder()
    return order if order.paid_intent_id == intent_id else None


def _on_charge_refunded(event: ProviderEvent) -> str:
    """Refunds made in Stripe's dashboard: recorded (money only: the tickets stay valid, an
    organizer cancels them if meant) and announced. Our own refunds are already recorded."""
    order = _order_of_payment(event.object)
    if order is None:
        return "ignored"
    made = (event.object.get("refunds") or {}).get("data") or []
    known = {r.provider_refund_id for r in order.refunds or []}
    now = utcnow()
    new = [
        Refund(
            id=f"stripe-{r['id']}",
            amount_minor=int(r["amount"]),
            status=str(r["status"]),
            source="provider",
            reason="Refunded in Stripe.",
            provider_refund_id=str(r["id"]),
            created_at=now,
        )
        for r in made
        if isinstance(r, dict) and r.get("id") and r["id"] not in known
    ]
    if not new:
        return ALREADY
    refunds.record_provider_refunds(order, new, stripe_event_id=event.id)
    return "recorded"


def _on_dispute(event: ProviderEvent) -> str:
    raw = event.object
    order = _order_of_payment(raw)
    if order is None:
        return "ignored"
    now = utcnow()
    dispute = Dispute(
        id=str(raw.get("id")), amount_minor=int(raw.get("amount") or 0),
        reason=raw.get("reason"), status=raw.get("status"), created_at=now,
    )  # fmt: skip

    def build(tx: TransactWrite) -> None:
        tx.update(order, actions=[Order.dispute.set(dispute), Order.updated_at.set(now)])
        record_change(
            tx, "order.disputed", actor=None, target_type="order", target_id=order.id,
            event_id=order.event_id,
            details={"amount": dispute.amount_minor, "reason": dispute.reason or ""},
            data={"order_id": order.id, "seller_id": order.seller_id,
                  "organizer_id": order.organizer_id},
        )  # fmt: skip
        claim_event(tx, event.id, order, now)

    return "recorded" if transactions.write_unless_refused(build) else ALREADY


_HANDLERS = {
    "payment_intent.succeeded": _on_succeeded,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute,
}
