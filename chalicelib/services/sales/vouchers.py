"""Vouchers (promo codes): what they take off, and counting their uses with the stock.

The pricing rule, stated once: a voucher applies to each ticket of the lines whose type it
covers. `percent` takes that share of the ticket's price, rounded half-up to the currency's
minor unit (on each ticket's price, so every ticket of a line costs the same and a refund of one
ticket gives back exactly what it cost); `amount` takes that much off each ticket, and `price`
sells each ticket at that price; neither ever makes a ticket cost less than 0 or more than its
own price. One order is one use, counted in the transaction that takes the order's stock and
given back in the one that returns it (expiry, cancellation, a refund of everything).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import Principal
from chalicelib.db import transactions
from chalicelib.db.base import get_or_none, utcnow
from chalicelib.db.events import Event
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.db.vouchers import (
    AMOUNT,
    PERCENT,
    PERCENT_SCALE,
    Voucher,
    voucher_id,
)
from chalicelib.errors import Conflict, InvalidRequest, NotFound
from chalicelib.money import from_minor, minor_units, to_minor
from chalicelib.services.sales.events import UNCHANGED, owned_event
from chalicelib.services.stream.changes import record as record_change


@dataclass(frozen=True)
class VoucherView:
    voucher: Voucher
    currency_code: str  # the event's, which its money values are in


class VoucherNotValid(Conflict):
    code = "voucher_not_valid"
    message = "This voucher cannot be used for this order."


# --- pricing -------------------------------------------------------------------------------


def money_value(voucher: Voucher, currency_code: str) -> int:
    """An `amount`/`price` voucher's value in minor units of `currency_code` (the event's now).
    Set in another currency, its figure carries over, rounded half-up where the new currency
    has fewer decimals (1.50 EUR -> 2 JPY)."""
    value = int(voucher.value)
    if voucher.currency_code in (None, currency_code):
        return value
    figure = Decimal(from_minor(value, voucher.currency_code))
    return int(figure.scaleb(minor_units(currency_code)).quantize(Decimal(1), ROUND_HALF_UP))


def discount_per_ticket(voucher: Voucher, price_minor: int, currency_code: str) -> int:
    """What the voucher takes off one ticket of this price (0 <= result <= price)."""
    if voucher.discount_type == PERCENT:
        value = int(voucher.value)
        # Half-up on non-negative integers: (a + b/2) // b.
        scale = 100 * PERCENT_SCALE
        off = (price_minor * value + scale // 2) // scale
    elif voucher.discount_type == AMOUNT:
        off = money_value(voucher, currency_code)
    else:  # PRICE: the ticket costs `value`, never more than its own price
        off = price_minor - money_value(voucher, currency_code)
    return max(0, min(price_minor, off))


def refuse_unusable(voucher: Voucher | None, type_ids: list[str], now: datetime) -> Voucher:
    """The voucher as read, if an order of these types may use it now."""
    if voucher is None:
        raise VoucherNotValid("No voucher has this code for this event.")
    if voucher.valid_until is not None and voucher.valid_until <= now:
        raise VoucherNotValid("This voucher has expired.", details={"voucher": "expired"})
    if voucher.max_uses is not None and voucher.uses >= voucher.max_uses:
        raise VoucherNotValid("This voucher has been used up.", details={"voucher": "used up"})
    if not any(voucher.applies_to(type_id) for type_id in type_ids):
        raise VoucherNotValid(
            "This voucher does not apply to these tickets.",
            details={"voucher": "not for these ticket types"},
        )
    return voucher


def add_use(tx: TransactWrite, voucher: Voucher, now: datetime) -> None:
    """One more use, refused unless the voucher still exists, is unexpired and has a use left
    at write time: parallel orders never use it more than `max_uses` times."""
    condition = Voucher.id.exists() & (
        Voucher.max_uses.does_not_exist() | (Voucher.uses < Voucher.max_uses)
    )
    condition &= Voucher.valid_until.does_not_exist() | (Voucher.valid_until > now)
    tx.update(
        Voucher(event_id=voucher.event_id, id=voucher.id),
        actions=[Voucher.uses.add(1)],
        condition=condition,
    )


def add_return(tx: TransactWrite, event_id: str, voucher_id_: str) -> None:
    """An order's use given back (it expired, was cancelled or refunded in full). A voucher
    with uses cannot be deleted, so it is there to take it."""
    tx.update(
        Voucher(event_id=event_id, id=voucher_id_),
        actions=[Voucher.uses.add(-1)],
        condition=Voucher.id.exists() & (Voucher.uses >= 1),
    )


# --- the organizer's routes ------------------------------------------------------------------


@dataclass(frozen=True)
class Discount:
    type: str
    value: int
    currency_code: str | None  # what a money value is in; None for a percentage


def parse_discount(discount_type: str, value: str, currency_code: str) -> Discount:
    """`value` as the API takes it (a decimal string) -> what is stored."""
    if discount_type == PERCENT:
        try:
            percent = Decimal(value)
        except InvalidOperation:
            percent = Decimal("NaN")
        if (
            not percent.is_finite()
            or not 0 < percent <= 100
            or percent.as_tuple().exponent < -2  # type: ignore[operator]
            or "e" in value.lower()
        ):
            raise InvalidRequest(
                details={"discount.value": "A percentage above 0, at most 100, 2 decimals."}
            )
        return Discount(PERCENT, int(percent * PERCENT_SCALE), None)
    try:
        minor = to_minor(value, currency_code)
    except ValueError as exc:
        raise InvalidRequest(details={"discount.value": str(exc)}) from None
    if discount_type == AMOUNT and minor == 0:
        raise InvalidRequest(details={"discount.value": "Take more than 0 off."})
    return Discount(discount_type, minor, currency_code)


def discount_value(voucher: Voucher, currency_code: str) -> str:
    """The stored value as the API shows it."""
    if voucher.discount_type == PERCENT:
        percent = (Decimal(int(voucher.value)) / PERCENT_SCALE).normalize()
        return format(percent, "f")  # "10", where str() would say "1E+1"
    return from_minor(money_value(voucher, currency_code), currency_code)


def _check_types(event: Event, ticket_type_ids: list[str] | None) -> set[str] | None:
    if ticket_type_ids is None:
        return None
    unknown = sorted(set(ticket_type_ids) - set(event.ticket_type_ids or ()))
    if unknown:
        raise InvalidRequest(details={"ticket_type_ids": f"Not this event's: {', '.join(unknown)}"})
    return set(ticket_type_ids)


def _check_until(valid_until: datetime | None) -> None:
    if valid_until is not None and valid_until <= utcnow():
        raise InvalidRequest(details={"valid_until": "Must be in the future."})


def _record(
    tx: TransactWrite, type_: str, actor: Principal, event: Event, voucher: Voucher, details: dict
) -> None:
    record_change(
        tx, type_, actor=actor, target_type="voucher", target_id=voucher.id, event_id=event.id,
        details={"code": voucher.code, **details}, data={"organizer_id": event.organizer_id},
    )  # fmt: skip


def create_voucher(
    *,
    actor: Principal,
    event_id: str,
    code: str,
    discount_type: str,
    value: str,
    max_uses: int | None = None,
    valid_until: datetime | None = None,
    ticket_type_ids: list[str] | None = None,
) -> VoucherView:
    event = owned_event(actor, event_id)
    discount = parse_discount(discount_type, value, event.currency_code)
    _check_until(valid_until)
    now = utcnow()
    voucher = Voucher(
        event_id=event_id, id=voucher_id(event_id, code), code=code.strip(),
        discount_type=discount.type, value=discount.value, currency_code=discount.currency_code,
        max_uses=max_uses, uses=0,
        valid_until=valid_until, ticket_type_ids=_check_types(event, ticket_type_ids),
        created_at=now, updated_at=now,
    )  # fmt: skip

    def build(tx: TransactWrite) -> None:
        tx.save(voucher, condition=Voucher.id.does_not_exist())
        _record(tx, "voucher.created", actor, event, voucher, {
            "discount_type": discount.type, "value": value, "max_uses": max_uses,
        })  # fmt: skip

    if not transactions.write_unless_refused(build):
        raise Conflict("This event already has a voucher with that code.", code="duplicate_voucher")
    return VoucherView(voucher, event.currency_code)


def get_voucher(*, actor: Principal, event_id: str, voucher_id_: str) -> VoucherView:
    event = owned_event(actor, event_id)
    return VoucherView(_voucher(event_id, voucher_id_), event.currency_code)


def _voucher(event_id: str, voucher_id_: str) -> Voucher:
    voucher = get_or_none(Voucher, event_id, voucher_id_, consistent_read=True)
    if voucher is None:
        raise NotFound("No such voucher.", code="voucher_not_found")
    return voucher


def list_vouchers(
    *, actor: Principal, event_id: str, limit: int, next_token: str | None
) -> tuple[Page[Voucher], str]:
    """A page of the event's vouchers, and the currency their money values are in."""
    event = owned_event(actor, event_id)

    def query(**kw: Any) -> Any:
        return Voucher.query(event_id, consistent_read=True, **kw)

    page = fetch_page(
        Voucher, query, scope=f"vouchers:{event_id}", limit=limit, next_token=next_token
    )
    return page, event.currency_code


def update_voucher(
    *,
    actor: Principal,
    event_id: str,
    voucher_id_: str,
    discount: tuple[str, str] | None = None,
    max_uses: int | None = UNCHANGED,
    valid_until: datetime | None = UNCHANGED,
    ticket_type_ids: list[str] | None = UNCHANGED,
) -> VoucherView:
    """Any subset; applies to later orders. `max_uses` below the uses so far: 409."""
    event = owned_event(actor, event_id)
    current = _voucher(event_id, voucher_id_)
    now = utcnow()
    actions: list = [Voucher.updated_at.set(now)]
    condition = Voucher.id.exists()
    details: dict[str, Any] = {}
    if discount is not None:
        parsed = parse_discount(discount[0], discount[1], event.currency_code)
        actions += [Voucher.discount_type.set(parsed.type), Voucher.value.set(parsed.value),
                    Voucher.currency_code.set(parsed.currency_code) if parsed.currency_code
                    else Voucher.currency_code.remove()]  # fmt: skip
        details |= {"discount_type": parsed.type, "value": discount[1]}
    if max_uses is not UNCHANGED:
        if max_uses is None:
            actions.append(Voucher.max_uses.remove())
        else:
            actions.append(Voucher.max_uses.set(max_uses))
            condition &= Voucher.uses <= max_uses  # the uses as they are at write time
        details["max_uses"] = max_uses
    if valid_until is not UNCHANGED:
        _check_until(valid_until)
        actions.append(
            Voucher.valid_until.remove() if valid_until is None
            else Voucher.valid_until.set(valid_until)
        )  # fmt: skip
        details["valid_until"] = valid_until.isoformat() if valid_until else None
    if ticket_type_ids is not UNCHANGED:
        types = _check_types(event, ticket_type_ids)
        actions.append(
            Voucher.ticket_type_ids.remove() if not types else Voucher.ticket_type_ids.set(types)
        )
        details["ticket_types"] = len(types) if types else None

    def build(tx: TransactWrite) -> None:
        tx.update(current, actions=actions, condition=condition)
        _record(tx, "voucher.updated", actor, event, current, details)

    if not transactions.write_unless_refused(build):
        now_voucher = _voucher(event_id, voucher_id_)
        raise Conflict(
            f"This voucher has been used {now_voucher.uses} times already.",
            code="below_uses",
            details={"max_uses": f"At least {now_voucher.uses}."},
        )
    return VoucherView(_voucher(event_id, voucher_id_), event.currency_code)


def delete_voucher(*, actor: Principal, event_id: str, voucher_id_: str) -> None:
    """Only a voucher no order holds or paid with (its uses are given back to it)."""
    event = owned_event(actor, event_id)
    current = _voucher(event_id, voucher_id_)

    def build(tx: TransactWrite) -> None:
        tx.delete(current, condition=Voucher.id.exists() & (Voucher.uses == 0))
        _record(tx, "voucher.deleted", actor, event, current, {})

    if not transactions.write_unless_refused(build):
        if get_or_none(Voucher, event_id, voucher_id_, consistent_read=True) is None:
            raise NotFound("No such voucher.", code="voucher_not_found")
        raise Conflict(
            "Orders hold or paid with this voucher; set max_uses or valid_until to stop it.",
            code="voucher_in_use",
        )
