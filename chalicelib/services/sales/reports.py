"""Reports: what an event and a seller sold, read from counters, never from a scan.

Every figure here is a counter kept by the same transaction as the change it counts: a sale
moves `sold` and `gross`, a hold `held`, a refund `refunded` (and its cancelled tickets back out
of `sold`), a check-in `checked_in`. So a report is three reads whatever was sold (the event,
its pools, its ticket types), and it agrees with the stored tickets and refunds at any instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.auth.principal import ADMIN, ORGANIZER, SELLER_ROLES, Principal
from chalicelib.db import batch
from chalicelib.db.allocations import Allocation, type_shares
from chalicelib.db.base import get_or_none
from chalicelib.db.events import Event
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.db.ticket_types import TicketType
from chalicelib.db.users import User
from chalicelib.errors import Forbidden, NotFound
from chalicelib.services.sales import inventory, stock_shards
from chalicelib.services.sales.events import owned_event
from chalicelib.services.sales.ticket_types import types_of


@dataclass(frozen=True)
class Figures:
    sold: int = 0  # valid tickets (cancelled and refunded ones are out)
    held: int = 0  # in reserved orders
    checked_in: int = 0
    gross: int = 0  # minor units: all that paid orders paid, refunded or not
    refunded: int = 0
    online: int = 0  # of gross, paid by card through the API

    @property
    def net(self) -> int:
        return self.gross - self.refunded

    @property
    def collected_by_seller(self) -> int:
        """Of gross, paid outside the API (to the seller, at the door)."""
        return self.gross - self.online

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(a + b for a, b in zip(self._values(), other._values(), strict=True)))

    def _values(self) -> tuple[int, ...]:
        return (self.sold, self.held, self.checked_in, self.gross, self.refunded, self.online)


def of_pool(pool: Allocation) -> Figures:
    return Figures(
        sold=int(pool.sold), held=int(pool.held), checked_in=int(pool.checked_in),
        gross=int(pool.gross_minor), refunded=int(pool.refunded_minor),
        online=int(pool.online_minor),
    )  # fmt: skip


def of_type(ticket_type: TicketType) -> Figures:
    return Figures(
        sold=int(ticket_type.sold), held=int(ticket_type.held),
        checked_in=int(ticket_type.checked_in), gross=int(ticket_type.gross_minor),
        refunded=int(ticket_type.refunded_minor),
    )  # fmt: skip


@dataclass(frozen=True)
class EventReport:
    event: Event
    types: list[tuple[TicketType, Figures]]
    sellers: list[tuple[Allocation, Figures]]
    totals: Figures


def event_report(*, actor: Principal, event_id: str) -> EventReport:
    """Per ticket type and per seller, with totals: three reads (event, pools, types)."""
    event = owned_event(actor, event_id)
    pools = inventory.pools_of(event_id)
    types = sorted(types_of(event_id), key=lambda t: (t.created_at, t.id))
    stock_shards.fold(pools, types)
    sellers = [(pool, of_pool(pool)) for pool in pools]
    totals = sum((figures for _, figures in sellers), Figures())
    return EventReport(event, [(t, of_type(t)) for t in types], sellers, totals)


@dataclass(frozen=True)
class TypeLine:
    ticket_type_id: str
    name: str | None
    share: int
    figures: Figures


@dataclass(frozen=True)
class SellerEventLine:
    event: Event
    pool: Allocation
    figures: Figures
    types: list[TypeLine]


def _may_see(actor: Principal, seller_id: str) -> None:
    if actor.role not in (ADMIN, ORGANIZER) and actor.user_id != seller_id:
        raise Forbidden()


def seller_report(
    *, actor: Principal, seller_id: str, limit: int, next_token: str | None
) -> tuple[list[SellerEventLine], str | None]:
    """A seller's sales, one line per event (and, for a reseller, per type it was given): the
    seller itself and admins see all, an organizer the lines of its own events. A page costs
    one Query of the seller's pools and a BatchGetItem per 100 of their events and types."""
    _may_see(actor, seller_id)
    seller = get_or_none(User, seller_id, consistent_read=True)
    if seller is None or seller.role not in SELLER_ROLES:
        raise NotFound("No such seller.", code="seller_not_found")

    def query(**kw: Any) -> Any:
        return Allocation.by_seller.query(seller_id, **kw)

    page: Page[Allocation] = fetch_page(
        Allocation, query, scope=f"seller-report:{seller_id}", limit=limit, next_token=next_token
    )
    keys: list[batch.Key] = [(Event, pool.event_id, None) for pool in page.items]
    type_keys = [(TicketType, p.event_id, t) for p in page.items for t in type_shares(p)]
    wanted = keys + type_keys
    found = batch.get_items(wanted)
    events, types = found[: len(keys)], found[len(keys) :]
    names = {(t.event_id, t.id): t.name for t in types if t is not None}
    lines = []
    for pool, event in zip(page.items, events, strict=True):
        if event is None:
            continue
        if actor.role == ORGANIZER and event.organizer_id != actor.user_id:
            continue
        type_lines = [_type_line(type_id, entry, names.get((event.id, type_id)))
                      for type_id, entry in sorted(type_shares(pool).items())]  # fmt: skip
        stock_shards.fold([pool])  # an organizer's sharded event: one more read
        lines.append(SellerEventLine(event, pool, of_pool(pool), type_lines))
    return lines, page.next_token


def _type_line(type_id: str, entry: dict[str, int], name: str | None) -> TypeLine:
    """One type of a reseller's pool: its share and what it sold of it."""
    figures = Figures(
        sold=int(entry.get("sold", 0)), held=int(entry.get("held", 0)),
        gross=int(entry.get("gross", 0)), refunded=int(entry.get("refunded", 0)),
    )  # fmt: skip
    return TypeLine(type_id, name, int(entry.get("share", 0)), figures)
