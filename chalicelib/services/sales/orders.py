"""Orders: taking every line's stock in one transaction, holding it while the buyer pays, and
giving it back exactly once when the hold ends.

An order is `paid` at once when nothing is owed through the API (an `offline` event, a total
of 0, or a seller recording a sale it collected itself); otherwise it is `reserved` until
`expires_at`. Every end of a hold (expiry by the sweep or on read, a cancel) is one
conditional transaction on `status = reserved`, so whichever comes first releases the stock
and the others change nothing.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.transactions import TransactWrite

from chalicelib.auth import ticket_keys
from chalicelib.auth.principal import (
    ADMIN,
    BUYER,
    CHECKOUT,
    ORDER_ROLES,
    SELLER_ROLES,
    Principal,
)
from chalicelib.db import batch, index_parts, transactions
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import get_or_none, new_id, utcnow
from chalicelib.db.events import Event
from chalicelib.db.idempotency import IdempotencyRecord
from chalicelib.db.orders import (
    CANCELLED,
    EXPIRED,
    PAID,
    RESERVED,
    STRIPE,
    Order,
    OrderLine,
    due_minute,
)
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.db.rate_limits import RateCounter
from chalicelib.db.recent_reads import RecentReads
from chalicelib.db.ticket_types import TicketType
from chalicelib.db.tickets import Holder, Ticket
from chalicelib.db.uniques import UniqueClaim
from chalicelib.db.vouchers import Voucher, voucher_id
from chalicelib.email.addresses import normalize_email
from chalicelib.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    TicketTypeNotFound,
)
from chalicelib.errors import SoldOut as SoldOutError
from chalicelib.payments import stripe_api
from chalicelib.payments.base import PaymentsNotConfigured
from chalicelib.services.sales import (
    idempotency,
    inventory,
    onsale_queue,
    stock,
    stock_shards,
    vouchers,
    waiting_list,
)
from chalicelib.services.sales.buyers import BuyerDetails, BuyerWrite, buyer_claim_key, buyer_write
from chalicelib.services.sales.sales_scope import sales_query
from chalicelib.services.sales.ticket_types import sale_closed_reason
from chalicelib.services.stream import notifications
from chalicelib.services.stream.changes import record as record_change
from chalicelib.settings import get_settings

log = logging.getLogger(__name__)

ORDER_ATTEMPTS = 3
# Besides those: moves to another stock shard, or to the base once a rebalance gathered the
# order's stock there (services/sales/stock.py).
STOCK_MOVES = 3
# Far inside one TransactWriteItems (100 items): tickets + pool + types + order + the rest.
MAX_TICKETS_PER_ORDER = 50
MAX_LINES = 10
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud
# How far back the sweep looks for minutes with holds left: covers a sweep that stopped for
# an hour. Older holds still end when their order is read (and `sweep(since=...)` reaches back).
SWEEP_LOOKBACK = timedelta(minutes=60)


@dataclass(frozen=True)
class LineRequest:
    ticket_type_id: str | None
    quantity: int


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    tickets: list[Ticket]
    event_time: datetime | None = None  # when placed (the order token lasts until after it)


def ticket_code() -> str:
    """12 random characters from 32 (60 bits), grouped for reading: ABCD-EFGH-JKLM."""
    import secrets

    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def hold_counter_key(event_id: str, email: str) -> str:
    """The buyer's reserved-orders counter for one event (no email stored in clear)."""
    digest = hashlib.sha256(normalize_email(email).encode()).hexdigest()
    return f"holds:{event_id}:{digest}"


def _skips_queue(actor: Principal | None) -> bool:
    """Sellers recording sales and admins are not buyers: the on-sale queue is for buyers."""
    return actor is not None and actor.role in (*SELLER_ROLES, ADMIN)


def _seller_for(actor: Principal | None, event: Event, seller_id: str | None) -> tuple[str, bool]:
    """Who sells, and whether the caller is that seller (who may sell while off sale, and
    whose own sale is paid at once: the seller collected the money)."""
    if actor is not None and actor.role in SELLER_ROLES and seller_id in (None, actor.user_id):
        return actor.user_id, True
    # Anonymous buyers who name no seller buy from the organizer, always on sale.
    return seller_id or event.organizer_id, False


@dataclass(frozen=True)
class _Reads:
    event: Event | None
    claim: UniqueClaim | None
    record: IdempotencyRecord | None
    types: dict[str, TicketType]
    voucher: Voucher | None


# An event whose stock is split into shards is selling hot: every order would read its item
# and its types' (one partition key each, 3,000 strongly consistent reads a second). Each API
# process reuses them for HOT_READ_S instead. Safe because every change that matters to an
# order (the event's, its types', its stock's) is made with the lane collapsed and split again
# under a new `stock_lane`, which the shards of the new lane carry: a take decided on an older
# read is refused, and the order is tried again on a fresh one.
HOT_READ_S = 1.0
_hot: RecentReads[tuple[Event, dict[str, TicketType]]] = RecentReads(HOT_READ_S)


def _hot_read(event_id: str, type_ids: list[str]) -> tuple[Event, dict[str, TicketType]] | None:
    found = _hot.peek(event_id)
    if found is None:
        return None
    event, types = found
    if not event.stock_lane_open or any(t not in types for t in type_ids):
        return None
    return event, {t: types[t] for t in type_ids}


def _keep_hot(event: Event | None, types: dict[str, TicketType]) -> None:
    if event is None:
        return
    if event.stock_lane_open:
        _hot.put(event.id, (event, dict(types)))
    else:
        _hot.forget(event.id)


def _read(
    event_id: str,
    buyer: BuyerDetails,
    key: str | None,
    type_ids: list[str],
    code: str | None,
    *,
    reuse: bool = False,
) -> _Reads:
    """Everything an order decides on, in one strongly consistent BatchGetItem (`reuse`: a
    hot event's item and types as this process read them within HOT_READ_S, if it did)."""
    hot = _hot_read(event_id, type_ids) if reuse else None
    keys: list[batch.Key] = [(UniqueClaim, buyer_claim_key(buyer), None)]
    if hot is None:
        keys += [(Event, event_id, None)]
        keys += [(TicketType, event_id, type_id) for type_id in type_ids]
    if code is not None:
        keys.append((Voucher, event_id, voucher_id(event_id, code)))
    if key is not None:
        keys.append((IdempotencyRecord, key, None))
    found = batch.get_items(keys)
    claim, rest = found[0], found[1:]
    if hot is None:
        event, rest = rest[0], rest[1:]
        types = {t.id: t for t in rest[: len(type_ids)] if t is not None}
        rest = rest[len(type_ids) :]
        _keep_hot(event, types)  # type: ignore[arg-type]
    else:
        event, types = hot
    voucher = rest[0] if code is not None else None
    record = rest[-1] if key is not None else None
    return _Reads(event, claim, record, types, voucher)  # type: ignore[arg-type]


def place_order(
    *,
    actor: Principal | None,
    event_id: str,
    seller_id: str | None,
    lines: list[LineRequest],
    buyer: BuyerDetails,
    idempotency_key: str | None = None,
    one_step: bool = False,
    voucher: str | None = None,
    admission: str | None = None,
) -> PlacedOrder:
    """Take every line's stock in one TransactWriteItems: at most two reads (one BatchGetItem,
    and the event's only type when the lines name none) and one write, whatever was sold.

    `one_step`: the original's POST /sold-tickets, which must end paid (an anonymous buyer of
    an `online` event is told to order instead). `admission`: the X-Admission header, which
    buyers of an event with an open on-sale queue need (sellers and admins do not).
    """
    _check_lines(lines)
    key = (
        idempotency.record_key(scope=actor.user_id if actor else "anonymous", key=idempotency_key)
        if idempotency_key is not None
        else None
    )
    # A line naming no type means the event's only one, most often its first (whose id is the
    # event's): read with the event, it costs no call of its own.
    named = sorted({line.ticket_type_id or event_id for line in lines})
    refused = emailed = False
    place: stock.Place | None = None
    attempts = moves = 0
    while attempts < ORDER_ATTEMPTS:
        attempts += 1
        # A hot event's reads are reused until a refusal (not for stock) asks for fresh ones;
        # a stale read only sells where its lane number still holds.
        reads = _read(event_id, buyer, key, named, voucher, reuse=not refused)
        event = reads.event
        if event is None:
            raise NotFound()
        if (
            place is not None
            and place.shard is not None
            and (not event.stock_lane_open or place.lane != event.stock_lane)
        ):
            place = None  # collapsed or split again since the place was chosen
        seller, own_sale = _seller_for(actor, event, seller_id)
        resolved = _resolve_lines(event, lines, reads.types)
        fingerprint = idempotency.fingerprint(
            "order", event_id, seller, [(t.id, q) for t, q in resolved],
            normalize_email(buyer.email), buyer.name, buyer.phone,
            voucher.strip().upper() if voucher is not None else None,
        )  # fmt: skip
        if key is not None:
            replay = idempotency.replay_of(reads.record, fingerprint)
            if replay is not None:
                return _replayed(replay.result, event)
        admission_id = (
            onsale_queue.check_admission(event, admission)
            if onsale_queue.admission_needed(event, utcnow()) and not _skips_queue(actor)
            else None
        )
        if refused:
            # Raise the rule the refused order broke; if only the buyer or the key raced, retry.
            if admission_id is not None and onsale_queue.claimed(admission_id):
                raise onsale_queue.AdmissionUsed()
            _explain_refused(event, seller, own_sale, resolved, buyer)
        else:
            _check_sale(event, resolved)
        used = (
            vouchers.refuse_unusable(reads.voucher, [t.id for t, _ in resolved], utcnow())
            if voucher is not None
            else None
        )
        priced = _price(resolved, used)
        total = sum((line.unit_price_minor - line.discount_minor) * line.quantity
                    for line in priced)  # fmt: skip
        paid = event.payment == "offline" or total == 0 or own_sale
        if not paid and one_step:
            raise Conflict(
                "This event is paid online: place an order (POST /orders) and pay it.",
                code="payment_required",
            )
        if not paid and not stripe_api.configured():
            raise PaymentsNotConfigured()
        if paid and not refused and not emailed:
            # Counted before selling: past the hourly email ceiling nothing is sold.
            notifications.reserve(buyer.email)
            emailed = True
        buyer_part = buyer_write(buyer, reads.claim)
        order = _new_order(event, seller, priced, buyer, buyer_part, paid, total, used)
        if place is None:
            place = stock.first_place(event, lines_of(order), by_reseller=order.by_reseller)
        stock.record_place(order, place)
        tickets = issue_tickets(order, order.created_at) if paid else []
        build = functools.partial(
            _write_order, actor=actor, event=event, order=order, tickets=tickets,
            buyer_part=buyer_part, must_be_on_sale=not own_sale, voucher=used,
            record=(key, fingerprint) if key is not None else None, admission_id=admission_id,
            place=place,
        )  # fmt: skip
        if transactions.write_unless_refused(build):
            return PlacedOrder(order=order, tickets=tickets, event_time=event.time)
        moved = (stock.after_refusal(event, place, lines_of(order), by_reseller=order.by_reseller)
                 if moves < STOCK_MOVES else None)  # fmt: skip
        if moved is not None:  # the stock was short there, and is to be found elsewhere
            place, moves, attempts = moved, moves + 1, attempts - 1
            continue
        refused = True
    raise ServiceUnavailable("The order could not be completed; try again.", code="storage_busy")


def _check_lines(lines: list[LineRequest]) -> None:
    if not lines or len(lines) > MAX_LINES:
        raise InvalidRequest(details={"items": f"Give 1-{MAX_LINES} lines."})
    if sum(line.quantity for line in lines) > MAX_TICKETS_PER_ORDER:
        raise InvalidRequest(
            details={"items": f"At most {MAX_TICKETS_PER_ORDER} tickets in one order."}
        )
    ids = [line.ticket_type_id for line in lines]
    if len(set(ids)) != len(ids):
        raise InvalidRequest(details={"items": "Each ticket type once per order."})


def _resolve_lines(
    event: Event, lines: list[LineRequest], types: dict[str, TicketType]
) -> list[tuple[TicketType, int]]:
    """Each line's ticket type (the event's only one where a line names none)."""
    resolved = []
    for line in lines:
        type_id = line.ticket_type_id
        if type_id is None:
            if not event.ticket_type_ids:
                # Stored before ticket types, and the setup step has not migrated it yet.
                raise Conflict(
                    "This event's ticket types are being set up; try again in a minute.",
                    code="event_not_ready",
                )
            if len(event.ticket_type_ids) != 1:
                raise InvalidRequest(
                    details={"ticket_type_id": "Required: this event sells several ticket types."}
                )
            (type_id,) = event.ticket_type_ids
            if type_id not in types:  # the second read, only for orders naming no type
                found = get_or_none(TicketType, event.id, type_id, consistent_read=True)
                if found is not None:
                    types[type_id] = found
        ticket_type = types.get(type_id)
        if ticket_type is None:
            raise TicketTypeNotFound()
        resolved.append((ticket_type, line.quantity))
    if len({t.id for t, _ in resolved}) != len(resolved):  # a line naming no type, and its twin
        raise InvalidRequest(details={"items": "Each ticket type once per order."})
    return resolved


def _check_sale(event: Event, resolved: list[tuple[TicketType, int]]) -> None:
    now = utcnow()
    if event.time <= now:
        raise Conflict("This event has already taken place.", code="event_over")
    for ticket_type, quantity in resolved:
        reason = sale_closed_reason(ticket_type, now)
        if reason is not None:
            raise Conflict(
                f"The ticket type {ticket_type.name!r} {reason}.",
                code="not_on_sale",
                details={ticket_type.id: reason},
            )
        if quantity > ticket_type.max_per_order:
            raise InvalidRequest(
                f"At most {ticket_type.max_per_order} {ticket_type.name!r} tickets per order.",
                details={ticket_type.id: f"At most {ticket_type.max_per_order} per order."},
            )


@dataclass(frozen=True)
class PricedLine:
    ticket_type: TicketType
    quantity: int
    unit_price_minor: int
    discount_minor: int  # per ticket


def _price(resolved: list[tuple[TicketType, int]], voucher: Voucher | None) -> list[PricedLine]:
    """Each line at the server's price, less what the voucher takes off each of its tickets."""

    def off(ticket_type: TicketType) -> int:
        if voucher is None or not voucher.applies_to(ticket_type.id):
            return 0
        return vouchers.discount_per_ticket(
            voucher, ticket_type.price_minor, ticket_type.currency_code
        )

    return [PricedLine(t, q, t.price_minor, off(t)) for t, q in resolved]


def _new_order(
    event: Event,
    seller: str,
    priced: list[PricedLine],
    buyer: BuyerDetails,
    buyer_part: BuyerWrite,
    paid: bool,
    total: int,
    voucher: Voucher | None,
) -> Order:
    now = utcnow()
    expires_at = None if paid else now + timedelta(minutes=event.hold_minutes)
    return Order(
        id=new_id(),
        event_id=event.id,
        seller_id=seller,
        by_reseller=seller != event.organizer_id,
        organizer_id=event.organizer_id,
        buyer_id=buyer_part.buyer.id,
        holder=Holder(name=buyer.name, phone=buyer.phone),
        status=PAID if paid else RESERVED,
        items=[
            OrderLine(
                ticket_type_id=line.ticket_type.id,
                name=line.ticket_type.name,
                quantity=line.quantity,
                unit_price_minor=line.unit_price_minor,
                discount_minor=line.discount_minor or None,
            )
            for line in priced
        ],
        total_minor=total,
        voucher_id=voucher.id if voucher is not None else None,
        voucher_code=voucher.code if voucher is not None else None,
        currency_code=event.currency_code,
        created_at=now,
        updated_at=now,
        expires_at=expires_at,
        due_minute=due_minute(expires_at) if expires_at else None,
        paid_at=now if paid else None,
        paid_minor=total if paid else None,
        hold_counter=None if paid else hold_counter_key(event.id, buyer.email),
        payment_provider=None if paid else STRIPE,
    )


def issue_tickets(order: Order, now: datetime) -> list[Ticket]:
    """The order's tickets, one per admission, at the prices it was placed at (unsaved)."""
    tickets = []
    for line in order.items:
        for _ in range(line.quantity):
            ticket_id, code = new_id(), ticket_code()
            tickets.append(
                Ticket(
                    id=ticket_id,
                    event_id=order.event_id,
                    seller_id=order.seller_id,
                    organizer_id=order.organizer_id,
                    buyer_id=order.buyer_id,
                    holder=Holder(name=order.holder.name, phone=order.holder.phone),
                    order_id=order.id,
                    ticket_type_id=line.ticket_type_id,
                    ticket_type_name=line.name,
                    code=code,
                    qr=ticket_keys.sign_ticket(
                        ticket_id=ticket_id, event_id=order.event_id, code=code, issued_at=now
                    ),
                    price_minor=line.paid_unit_minor,
                    currency_code=order.currency_code,
                    stock_shard=order.stock_shard,
                    stock_shard_type=_counted_on_shard(order, line.ticket_type_id),
                    created_at=now,
                )
            )
    order.ticket_ids = [t.id for t in tickets]
    return tickets


def _counted_on_shard(order: Order, type_id: str) -> bool | None:
    if order.stock_shard is None:
        return None
    return type_id in (order.stock_shard_types or ())


def lines_of(order: Order) -> list[inventory.Line]:
    return [inventory.Line(line.ticket_type_id, line.quantity) for line in order.items]


def money_of(order: Order, *, online: bool) -> inventory.Money:
    """What the order pays, per ticket type: the report's gross, counted when it is paid."""
    return inventory.Money(
        {line.ticket_type_id: line.paid_unit_minor * int(line.quantity) for line in order.items},
        online=online,
    )


def _write_order(
    tx: TransactWrite,
    *,
    actor: Principal | None,
    event: Event,
    order: Order,
    tickets: list[Ticket],
    buyer_part: BuyerWrite,
    must_be_on_sale: bool,
    voucher: Voucher | None,
    record: tuple[str, str] | None,
    admission_id: str | None = None,
    place: stock.Place = stock.BASE,
) -> None:
    paid = order.status == PAID
    stock.add_take(
        tx, place=place, event_id=event.id, seller_id=order.seller_id,
        by_reseller=order.by_reseller,
        must_be_on_sale=must_be_on_sale, lines=lines_of(order),
        state=inventory.SOLD if paid else inventory.HELD, now=order.created_at,
        money=money_of(order, online=False) if paid else None,
    )  # fmt: skip
    tx.save(order, condition=Order.id.does_not_exist())
    for ticket in tickets:
        tx.save(ticket, condition=Ticket.id.does_not_exist())
    buyer_part.add_to(tx)
    if voucher is not None:
        vouchers.add_use(tx, voucher, order.created_at)
    if admission_id is not None:
        onsale_queue.add_claim(tx, admission_id, order.id)
    if not paid:
        _count_hold(tx, order, event)
    else:
        record_sale(tx, actor=actor, order=order)
    if record is not None:
        key, fingerprint = record
        idempotency.record_in(tx, key, fingerprint, {"order_id": order.id})


def record_sale(tx: TransactWrite, *, actor: Principal | None, order: Order) -> None:
    """The announcements the stream's consumers work from when an order is paid (the
    confirmation email, webhooks): ids only, so no personal data waits in them."""
    data = {"order_id": order.id, "ticket_ids": order.ticket_ids,
            "buyer_id": order.buyer_id, "seller_id": order.seller_id,
            "organizer_id": order.organizer_id}  # fmt: skip
    record_change(
        tx, "ticket.sold", actor=actor, target_type="booking", target_id=order.ticket_ids[0],
        event_id=order.event_id, details={"quantity": order.quantity}, data=data,
    )  # fmt: skip
    record_change(
        tx, "order.paid", actor=actor, target_type="order", target_id=order.id,
        event_id=order.event_id, details={"total": order.total_minor}, data=data,
    )  # fmt: skip


def _count_hold(tx: TransactWrite, order: Order, event: Event) -> None:
    """One more reserved order for this buyer and event, refused past the setting: nobody
    holds a whole event by scripting orders."""
    limit = get_settings().reserved_orders_per_buyer
    tx.update(
        RateCounter(key=order.hold_counter),
        actions=[
            RateCounter.hits.add(1),
            # Long after the event: TTL only tidies up, it never ends a hold.
            RateCounter.expires_at.set(event.time + timedelta(days=2)),
        ],
        condition=RateCounter.hits.does_not_exist() | (RateCounter.hits < limit),
    )


def _explain_refused(
    event: Event,
    seller: str,
    own_sale: bool,
    resolved: list[tuple[TicketType, int]],
    buyer: BuyerDetails,
) -> None:
    """Read what refused the order and raise the rule it broke, or return when only the buyer,
    the key or the voucher raced (then the order is tried again, and the voucher as read with
    that attempt says whether it is used up)."""
    keys: list[batch.Key] = [(Allocation, event.id, seller)]
    keys += [(TicketType, event.id, t.id) for t, _ in resolved]
    keys.append((RateCounter, hold_counter_key(event.id, buyer.email), None))
    found = batch.get_items(keys)
    pool, types, holds = found[0], found[1:-1], found[-1]
    if pool is None:
        raise NotFound("This seller does not sell tickets for the event.", code="seller_not_found")
    stock_shards.fold([pool], types, event=event)
    if pool.closed_at is not None:
        raise Conflict("This event is closed for booking.", code="event_closed")
    if not own_sale and not pool.on_sale:
        raise Conflict("This seller is not offering tickets for the event.", code="not_on_sale")
    now_types = [(t, q) for t, (_, q) in zip(types, resolved, strict=True) if t is not None]
    if len(now_types) != len(resolved):
        raise TicketTypeNotFound()
    _check_sale(event, now_types)
    short = {
        t.id: f"{inventory.available_of(t, pool)} available"
        for t, q in now_types
        if inventory.available_of(t, pool) < q
    }
    total = sum(q for _, q in now_types)
    if short or pool.available < total:
        raise SoldOutError(details=short or {"available": str(pool.available)})
    limit = get_settings().reserved_orders_per_buyer
    if event.payment != "offline" and holds is not None and holds.hits >= limit:
        raise Conflict(
            f"This buyer already holds {limit} unpaid orders for the event; pay or cancel one.",
            code="too_many_reserved_orders",
        )


def _replayed(result: dict, event: Event) -> PlacedOrder:
    order = get_or_none(Order, result.get("order_id", ""), consistent_read=True)
    if order is None:
        raise NotFound()
    return PlacedOrder(order=order, tickets=tickets_of(order), event_time=event.time)


def tickets_of(order: Order) -> list[Ticket]:
    """The order's tickets in the order they were issued (one BatchGetItem; none if unpaid)."""
    found = {t.id: t for t in Ticket.batch_get(order.ticket_ids)} if order.ticket_ids else {}
    return [found[i] for i in order.ticket_ids or [] if i in found]


# --- reading ---------------------------------------------------------------------------------


def _may_read(actor: Principal, order: Order) -> bool:
    if actor.role in ORDER_ROLES:
        return actor.user_id == order.id
    if actor.role == BUYER:
        return actor.user_id == order.buyer_id
    return actor.role == ADMIN or actor.user_id in (order.seller_id, order.organizer_id)


def get_order(*, actor: Principal, order_id: str) -> PlacedOrder:
    """The order (a hold past its time ends here, as the sweep would), with its tickets."""
    order = get_or_none(Order, order_id, consistent_read=True)
    if order is None:
        raise NotFound()
    if not _may_read(actor, order):
        raise Forbidden()
    if order.status == RESERVED and order.expires_at <= utcnow():
        end_hold(order, EXPIRED, actor=None)
        order.refresh(consistent_read=True)
    return PlacedOrder(order=order, tickets=tickets_of(order))


def list_orders(
    *,
    actor: Principal,
    event_id: str | None,
    status: str | None,
    limit: int,
    next_token: str | None,
) -> Page[Order]:
    """Admins see all orders, organizers those of their events, resellers their own sales."""
    of_status = (Order.status == status) if status else None
    query = sales_query(Order, actor=actor, event_id=event_id, condition=of_status)
    scope = f"orders:{actor.role}:{actor.user_id}:event={event_id}:status={status}"
    return fetch_page(Order, query, scope=scope, limit=limit, next_token=next_token)


# --- ending holds ------------------------------------------------------------------------------


def cancel_order(*, actor: Principal, order_id: str) -> Order:
    """A reserved order -> cancelled, its stock back at once (the order token, the seller, the
    event's organizer, an admin)."""
    order = get_or_none(Order, order_id, consistent_read=True)
    if order is None:
        raise NotFound()
    if actor.role in (BUYER, CHECKOUT) or not _may_read(actor, order):
        raise Forbidden()
    if order.status == RESERVED and order.expires_at <= utcnow():
        end_hold(order, EXPIRED, actor=None)
    elif order.status == RESERVED:
        end_hold(order, CANCELLED, actor=actor)
    order.refresh(consistent_read=True)
    if order.status != CANCELLED:
        raise Conflict(
            f"Only a reserved order can be cancelled; this one is {order.status}.",
            code="order_not_reserved",
            details={"status": order.status},
        )
    return order


def end_hold(
    order: Order, status: str, *, actor: Principal | None, now: datetime | None = None
) -> bool:
    """End a reserved order as `status` (expired or cancelled), giving its stock back, in one
    transaction on `status = reserved`: True if this call ended it, False if something else
    (the sweep, a cancel, a payment) got there first."""
    now = now or utcnow()

    def build(tx: TransactWrite) -> None:
        condition = Order.status == RESERVED
        if status == EXPIRED:
            condition &= Order.expires_at <= now  # never before its time
        tx.update(
            order,
            actions=[Order.status.set(status), Order.ended_at.set(now),
                     Order.updated_at.set(now), Order.due_minute.remove()],
            condition=condition,
        )  # fmt: skip
        stock.add_release(
            tx, place=stock.place_of(order), event_id=order.event_id, seller_id=order.seller_id,
            by_reseller=order.by_reseller, lines=lines_of(order), state=inventory.HELD, now=now,
        )  # fmt: skip
        if order.hold_counter:
            tx.update(
                RateCounter(key=order.hold_counter),
                actions=[RateCounter.hits.add(-1)],
                condition=RateCounter.hits >= 1,
            )
        if order.voucher_id:
            vouchers.add_return(tx, order.event_id, order.voucher_id)
        waiting_list.add_order_end(tx, order, paid=False)
        record_change(
            tx, f"order.{status}", actor=actor, target_type="order", target_id=order.id,
            event_id=order.event_id, details={"quantity": order.quantity},
            data={"order_id": order.id, "seller_id": order.seller_id,
                  "organizer_id": order.organizer_id},
        )  # fmt: skip

    return transactions.write_unless_refused(build)


def sweep(now: datetime | None = None, *, since: datetime | None = None) -> int:
    """Expire every reserved order past its time: a Query per minute looked at (the last
    hour's by default) and part of it (a hot sale's holds spread over DUE_PARTS), each
    returning only orders still reserved. Returns how many ended."""
    now = now or utcnow()
    minute = (since or now - SWEEP_LOOKBACK).replace(second=0, microsecond=0)
    ended = 0
    while minute <= now:
        for order in index_parts.query_parts(
            Order.due, index_parts.due_parts(due_minute(minute)), Order.expires_at <= now
        ):
            # The index may lag the table: an order already ended is refused by the
            # transaction's condition and changes nothing.
            ended += end_hold(order, EXPIRED, actor=None, now=now)
        minute += timedelta(minutes=1)
    if ended:
        log.info("expiry sweep: %d orders expired", ended)
    return ended
