"""The waiting list: stock that comes back goes to the people waiting for it, in order.

Joining is allowed once a type's stock from the organizer cannot cover the quantity asked for.
From then on, while anyone waits for a type, the organizer's stock of it is theirs: orders of
it are refused (inventory.add_take), and stock that comes back (an order expired, cancelled or
refunded, a ticket cancelled, a quantity or capacity raised, an offer lapsed) is offered by the
event stream's consumer to the head of the queue: the entry's quantity becomes a reserved order
for its buyer (an **offer**, held `waiting_list_hours`), in one transaction with the entry
leaving the queue. Offers go in queue order; stock that does not cover the next entry's quantity
waits for more (nobody jumps the queue). A lapsed or declined offer's stock goes to the next.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import ADMIN, ORGANIZER, WAITING, Principal
from chalicelib.auth.tokens import issue_waiting_token
from chalicelib.db import transactions
from chalicelib.db.allocations import Allocation
from chalicelib.db.base import get_or_none, new_id, utcnow
from chalicelib.db.events import Event
from chalicelib.db.orders import RESERVED, STRIPE, Order, OrderLine, due_minute
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.db.ticket_types import TicketType
from chalicelib.db.tickets import Holder
from chalicelib.db.waiting_list import (
    CLAIMED,
    ENDED,
    LAPSED,
    LEFT,
    OFFERED,
    WaitingEntry,
    entry_id,
    joined_part,
    position,
    queue_key,
)
from chalicelib.db.waiting_list import (
    WAITING as WAITING_STATUS,
)
from chalicelib.email.addresses import normalize_email
from chalicelib.errors import Conflict, Forbidden, InvalidRequest, NotFound, TicketTypeNotFound
from chalicelib.services.sales import inventory, stock_shards
from chalicelib.services.sales.buyers import BuyerDetails, read_buyer_write
from chalicelib.services.sales.events import get_event, owned_event
from chalicelib.services.sales.ticket_types import sale_closed_reason, types_of
from chalicelib.services.stream.changes import record as record_change

log = logging.getLogger(__name__)

# The changes after which stock of an event may have come back.
RETURNS_STOCK = frozenset(
    {
        "order.expired",
        "order.cancelled",
        "order.refunded",
        "ticket.cancelled",
        "ticket_type.updated",
        "event.updated",
        "allocation.changed",
        "waiting_list.joined",
        "waiting_list.left",
        "waiting_list.prioritised",  # a new head of the queue may fit stock waiting for more
    }
)
# Entries offered to per type and pass: an offer is one transaction, the rest wait for the next.
OFFERS_PER_PASS = 25


@dataclass(frozen=True)
class Joined:
    entry: WaitingEntry
    new: bool  # False: this email was already waiting (the answer is the same)


def _joined(now: datetime) -> str:
    return f"{now.strftime('%Y-%m-%dT%H:%M:%S.%f')}#{secrets.token_hex(4)}"


def join(*, event_id: str, ticket_type_id: str, quantity: int, buyer: BuyerDetails) -> Joined:
    """Put this buyer in the type's queue (once per email and type). Refused while the type
    can be ordered now (409 `tickets_available`): the list is for stock that is gone."""
    event = get_event(event_id)
    if event.payment != "online":
        raise Conflict(
            "The waiting list is for events paid online (an offer is held while its buyer pays).",
            code="waiting_list_online_only",
        )
    ticket_type = get_or_none(TicketType, event_id, ticket_type_id, consistent_read=True)
    if ticket_type is None:
        raise TicketTypeNotFound()
    now = utcnow()
    if event.time <= now:
        raise Conflict("This event has already taken place.", code="event_over")
    if quantity > ticket_type.max_per_order:
        raise InvalidRequest(details={"quantity": f"At most {ticket_type.max_per_order}."})
    reason = sale_closed_reason(ticket_type, now)
    if reason is not None:
        raise Conflict(f"The ticket type {ticket_type.name!r} {reason}.", code="not_on_sale")
    pool = get_or_none(Allocation, event_id, event.organizer_id, consistent_read=True)
    stock_shards.fold([pool], [ticket_type], event=event)
    if not ticket_type.waiting and inventory.available_of(ticket_type, pool) >= quantity:
        raise Conflict(
            "These tickets are available now: order them instead.", code="tickets_available"
        )
    if event.stock_lane_open:
        # The waiting list's rules are conditions on the base items: the lane closes for good.
        stock_shards.collapse(event_id)
    key = entry_id(event_id, ticket_type_id, buyer.email)
    current = get_or_none(WaitingEntry, key, consistent_read=True)
    if current is not None and current.status not in ENDED:
        return Joined(current, new=False)
    entry = WaitingEntry(
        id=key, event_id=event_id, ticket_type_id=ticket_type_id, quantity=quantity,
        name=buyer.name, email=normalize_email(buyer.email), phone=buyer.phone,
        status=WAITING_STATUS, priority=0, position=position(0, _joined(now)),
        queue=queue_key(event_id, ticket_type_id),
        created_at=now, updated_at=now,
    )  # fmt: skip

    def build(tx: TransactWrite) -> None:
        condition = WaitingEntry.id.does_not_exist()
        if current is not None:  # joining again after an earlier entry ended
            condition = WaitingEntry.status.is_in(*ENDED) & (
                WaitingEntry.updated_at == current.updated_at
            )
        tx.save(entry, condition=condition)
        tx.update(
            TicketType(event_id=event_id, id=ticket_type_id),
            actions=[TicketType.waiting.add(1)],
            condition=TicketType.id.exists(),
        )
        _record(tx, "waiting_list.joined", None, entry, event.organizer_id, {"quantity": quantity})

    if not transactions.write_unless_refused(build):
        # Joined meanwhile by a parallel request with this email: the same answer.
        again = get_or_none(WaitingEntry, key, consistent_read=True)
        if again is None:
            raise NotFound()
        return Joined(again, new=False)
    return Joined(entry, new=True)


def _record(
    tx: TransactWrite,
    type_: str,
    actor: Principal | None,
    entry: WaitingEntry,
    organizer_id: str,
    details: dict,
) -> None:
    """The change, naming ids only (the entry's email stays in the entry)."""
    record_change(
        tx, type_, actor=actor, target_type="waiting_list", target_id=entry.id,
        event_id=entry.event_id, details={"ticket_type_id": entry.ticket_type_id, **details},
        data={"entry_id": entry.id, "ticket_type_id": entry.ticket_type_id,
              "order_id": entry.order_id, "organizer_id": organizer_id},
    )  # fmt: skip


def leave_token(entry: WaitingEntry, event: Event) -> str:
    """The bearer token of the entry's emailed link: it leaves this entry, nothing else."""
    return issue_waiting_token(entry_id=entry.id, event_time=event.time).auth_token


class InvalidLeaveLink(InvalidRequest):
    code = "invalid_link"
    message = "This link is not valid. Check that you copied all of it."


def link_holder(entry_id_: str, token: str) -> Principal:
    """Who holds this entry's emailed link (the token is signed for this entry alone)."""
    from chalicelib.auth.tokens import InvalidToken, decode_token

    try:
        claims = decode_token(token)
    except InvalidToken:
        raise InvalidLeaveLink() from None
    if not claims.is_waiting or claims.user_id != entry_id_:
        raise InvalidLeaveLink()
    return Principal(user_id=entry_id_, role=WAITING)


def list_entries(
    *, actor: Principal, event_id: str, limit: int, next_token: str | None
) -> Page[WaitingEntry]:
    """Every entry of the event in queue order (any status): its organizer, admins."""
    owned_event(actor, event_id)

    def query(**kw: Any) -> Any:
        return WaitingEntry.by_event.query(event_id, **kw)

    return fetch_page(
        WaitingEntry, query, scope=f"waiting:{event_id}", limit=limit, next_token=next_token
    )


def leave(*, actor: Principal, entry_id_: str) -> None:
    """Leave the list (the entry's link token, the event's organizer, an admin). An offer not
    yet paid is declined with it, its stock passed on."""
    from chalicelib.services.sales.orders import end_hold

    entry = get_or_none(WaitingEntry, entry_id_, consistent_read=True)
    if actor.role == WAITING:
        if entry is None:
            raise NotFound()
        if actor.user_id != entry.id:
            raise Forbidden()
        event = get_event(entry.event_id)
    elif actor.role in (ADMIN, ORGANIZER):
        if entry is None:
            raise NotFound()
        event = owned_event(actor, entry.event_id)
    else:
        raise Forbidden()
    if entry.status == OFFERED and entry.order_id:
        order = get_or_none(Order, entry.order_id, consistent_read=True)
        if order is not None and order.status == RESERVED:
            end_hold(order, "cancelled", actor=actor)
        entry.refresh(consistent_read=True)
    if entry.status in (LAPSED, OFFERED):
        entry.update(
            actions=[WaitingEntry.status.set(LEFT), WaitingEntry.updated_at.set(utcnow())],
            condition=WaitingEntry.status == entry.status,
        )
        return
    if entry.status != WAITING_STATUS:
        return  # claimed or left already: nothing to leave

    def build(tx: TransactWrite) -> None:
        tx.update(
            entry,
            actions=[WaitingEntry.status.set(LEFT), WaitingEntry.queue.remove(),
                     WaitingEntry.updated_at.set(utcnow())],
            condition=WaitingEntry.status == WAITING_STATUS,
        )  # fmt: skip
        tx.update(
            TicketType(event_id=entry.event_id, id=entry.ticket_type_id),
            actions=[TicketType.waiting.add(-1)],
            condition=TicketType.waiting >= 1,
        )
        _record(tx, "waiting_list.left", actor, entry, event.organizer_id, {})

    transactions.write_unless_refused(build)  # refused: offered meanwhile, and left as such


def prioritise(*, actor: Principal, entry_id_: str, priority: int) -> WaitingEntry:
    """Move a waiting entry (the event's organizer, an admin): higher priority goes first,
    entries of one priority keep the order they came in. Only while it waits (else 409)."""
    entry = get_or_none(WaitingEntry, entry_id_, consistent_read=True)
    if entry is None:
        raise NotFound("No such waiting-list entry.", code="entry_not_found")
    event = owned_event(actor, entry.event_id)
    previous = int(entry.priority or 0)
    now = utcnow()

    def build(tx: TransactWrite) -> None:
        tx.update(
            entry,
            actions=[WaitingEntry.priority.set(priority),
                     WaitingEntry.position.set(position(priority, joined_part(entry.position))),
                     WaitingEntry.updated_at.set(now)],
            condition=WaitingEntry.status == WAITING_STATUS,
        )  # fmt: skip
        _record(tx, "waiting_list.prioritised", actor, entry, event.organizer_id,
                {"priority": priority, "previous_priority": previous})  # fmt: skip

    if not transactions.write_unless_refused(build):
        raise Conflict(
            "This entry is no longer waiting (it was offered tickets or left).",
            code="entry_not_waiting",
        )
    entry.refresh(consistent_read=True)
    return entry


# --- offers ---------------------------------------------------------------------------------


def after_change(change_type: str, event_id: str | None) -> int:
    """The stream's hook: after a change that may bring stock back, offer it. Returns how many
    offers went out (0 at the cost of one Query when nobody waits for the event)."""
    if change_type not in RETURNS_STOCK or not event_id:
        return 0
    return offer_returned_stock(event_id)


def offer_returned_stock(event_id: str) -> int:
    """Offer what the organizer's stock of each waited-for type covers, head of queue first."""
    waited_for = [t for t in types_of(event_id) if t.waiting]
    if not waited_for:
        return 0
    event = get_or_none(Event, event_id, consistent_read=True)
    if event is None or event.time <= utcnow():
        return 0
    made = 0
    for ticket_type in waited_for:
        made += _offer_type(event, ticket_type)
    return made


def _offer_type(event: Event, ticket_type: TicketType) -> int:
    made = 0
    for _ in range(OFFERS_PER_PASS):
        pool = get_or_none(Allocation, event.id, event.organizer_id, consistent_read=True)
        current = get_or_none(TicketType, event.id, ticket_type.id, consistent_read=True)
        if current is None or not current.waiting:
            break
        head = next(iter(WaitingEntry.by_queue.query(queue_key(event.id, current.id), limit=1)),
                    None)  # fmt: skip
        if head is None:
            break
        if inventory.available_of(current, pool, for_offers=True) < head.quantity:
            break  # partial stock waits until it covers the head of the queue
        if not _make_offer(event, current, head):
            break  # the entry or the stock changed meanwhile: the next change tries again
        made += 1
    return made


def _make_offer(event: Event, ticket_type: TicketType, entry: WaitingEntry) -> bool:
    """The entry's quantity held for its buyer as a reserved order, in one transaction with
    the entry leaving the queue: nobody else can take that stock, nobody is offered twice."""
    now = utcnow()
    expires_at = now + timedelta(hours=int(event.waiting_list_hours))
    buyer_part = read_buyer_write(BuyerDetails(name=entry.name, email=entry.email,
                                               phone=entry.phone))  # fmt: skip
    order = Order(
        id=new_id(), event_id=event.id, seller_id=event.organizer_id, by_reseller=False,
        organizer_id=event.organizer_id, buyer_id=buyer_part.buyer.id,
        holder=Holder(name=entry.name, phone=entry.phone), status=RESERVED,
        items=[OrderLine(ticket_type_id=ticket_type.id, name=ticket_type.name,
                         quantity=int(entry.quantity), unit_price_minor=ticket_type.price_minor)],
        total_minor=int(ticket_type.price_minor) * int(entry.quantity),
        currency_code=event.currency_code, created_at=now, updated_at=now,
        expires_at=expires_at, due_minute=due_minute(expires_at), payment_provider=STRIPE,
        waiting_entry_id=entry.id,
    )  # fmt: skip
    entry.order_id = order.id

    def build(tx: TransactWrite) -> None:
        inventory.add_take(
            tx, event_id=event.id, seller_id=event.organizer_id, by_reseller=False,
            must_be_on_sale=False, lines=[inventory.Line(ticket_type.id, int(entry.quantity))],
            state=inventory.HELD, now=now, offer=True,
        )  # fmt: skip
        tx.save(order, condition=Order.id.does_not_exist())
        buyer_part.add_to(tx)
        tx.update(
            entry,
            actions=[WaitingEntry.status.set(OFFERED), WaitingEntry.queue.remove(),
                     WaitingEntry.order_id.set(order.id), WaitingEntry.updated_at.set(now)],
            condition=WaitingEntry.status == WAITING_STATUS,
        )  # fmt: skip
        _record(tx, "waiting_list.offered", None, entry, event.organizer_id, {
            "quantity": int(entry.quantity), "order_id": order.id,
            "expires_at": expires_at.isoformat(),
        })  # fmt: skip

    offered = transactions.write_unless_refused(build)
    if offered:
        log.info("waiting list: offered %s x %s to entry %s", entry.quantity, ticket_type.id,
                 entry.id)  # fmt: skip
    return offered


def add_order_end(tx: TransactWrite, order: Order, *, paid: bool) -> None:
    """An offer's order ended: paid (the entry is `claimed`) or not (`lapsed`; its stock is
    passed on by the stream after this change)."""
    if not order.waiting_entry_id:
        return
    tx.update(
        WaitingEntry(id=order.waiting_entry_id),
        actions=[WaitingEntry.status.set(CLAIMED if paid else LAPSED),
                 WaitingEntry.updated_at.set(utcnow())],
        # Only ever fails if the entry was replaced meanwhile, which needs the offer ended first.
        condition=WaitingEntry.order_id == order.id,
    )  # fmt: skip
