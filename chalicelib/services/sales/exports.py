"""Exports of an event's orders, one row per order line, as CSV or XLSX.

Rows are produced a page of orders at a time (with that page's buyers and tickets read in
batches), written to a temporary file and published (chalicelib/export_files.py): memory stays
flat in the number of orders. Every text cell is neutralised against formula injection (OWASP
"CSV injection"): a value starting with =, +, -, @, a tab or a carriage return gets a leading
apostrophe, so a buyer named `=HYPERLINK(...)` stays text in any spreadsheet app. Money is a
decimal string in the event's currency, as in the API.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from chalicelib import export_files
from chalicelib.auth.principal import Principal
from chalicelib.db import index_parts
from chalicelib.db.base import get_or_none
from chalicelib.db.buyers import Buyer
from chalicelib.db.events import Event
from chalicelib.db.orders import Order
from chalicelib.db.tickets import Ticket
from chalicelib.money import from_minor
from chalicelib.services.sales.events import owned_event

COLUMNS = (
    "order_id", "status", "created_at", "paid_at", "buyer_name", "buyer_email", "buyer_phone",
    "ticket_type", "quantity", "unit_price", "discount", "refunded", "currency_code",
    "seller_id", "voucher", "ticket_codes", "checked_in",
)  # fmt: skip
PAGE = 200
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Text a spreadsheet will never run as a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


@dataclass(frozen=True)
class Export:
    url: str
    expires_at: datetime
    rows: int
    filename: str


def _time(at: datetime | None) -> str:
    return at.isoformat() if at is not None else ""


def _order_pages(event_id: str) -> Iterator[list[Order]]:
    page: list[Order] = []
    event = get_or_none(Event, event_id)
    parts = index_parts.event_parts(event_id, event.stock_shard_items if event else None)
    for order in index_parts.query_parts(Order.by_event, parts, page_size=PAGE):
        page.append(order)
        if len(page) == PAGE:
            yield page
            page = []
    if page:
        yield page


def rows(event: Event) -> Iterator[list]:
    """Every order line of the event, oldest order first: a Query page of orders, then one
    BatchGetItem of their buyers and as many as their tickets need."""
    for page in _order_pages(event.id):
        buyer_ids = {order.buyer_id for order in page}
        buyers = {b.id: b for b in Buyer.batch_get(list(buyer_ids))}
        ticket_ids = [t for order in page for t in order.ticket_ids or []]
        tickets = {t.id: t for t in Ticket.batch_get(ticket_ids)} if ticket_ids else {}
        for order in page:
            yield from _order_rows(order, buyers.get(order.buyer_id), tickets)


def _order_rows(order: Order, buyer: Buyer | None, tickets: dict[str, Ticket]) -> Iterator[list]:
    currency = order.currency_code
    own = [tickets[t] for t in order.ticket_ids or [] if t in tickets]
    for line in order.items:
        of_line = [t for t in own if (t.ticket_type_id or order.event_id) == line.ticket_type_id]
        live = [t for t in of_line if t.cancelled_at is None]
        yield [
            order.id, order.status, _time(order.created_at), _time(order.paid_at),
            order.holder.name, buyer.email if buyer is not None else "", order.holder.phone,
            line.name, int(line.quantity), from_minor(int(line.unit_price_minor), currency),
            from_minor(int(line.discount_minor or 0) * int(line.quantity), currency),
            from_minor(int(line.refunded_minor or 0), currency), currency,
            order.seller_id, order.voucher_code or "", " ".join(t.code for t in live),
            sum(1 for t in live if t.checked_in_at is not None),
        ]  # fmt: skip


def _cells(row: list) -> list:
    return [neutralise(value) if isinstance(value, str) else value for value in row]


def write_csv(path: str, source: Iterator[list]) -> int:
    """UTF-8 with a byte order mark, so spreadsheet apps read the names right."""
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for row in source:
            writer.writerow(_cells(row))
            count += 1
    return count


def write_xlsx(path: str, source: Iterator[list]) -> int:
    """openpyxl's write-only workbook: rows go to disk as they come. Text cells are written
    as strings (never formulas), the quantity and check-ins as numbers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("orders")
    sheet.append(list(COLUMNS))
    count = 0
    for row in source:
        cells = []
        for value in _cells(row):
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # a leading "=" would otherwise make openpyxl a formula
            cells.append(cell)
        sheet.append(cells)
        count += 1
    workbook.save(path)
    return count


def export_orders(*, actor: Principal, event_id: str, fmt: str) -> Export:
    """Write the event's orders as `fmt` (csv, xlsx) and publish the file."""
    event = owned_event(actor, event_id)
    filename = f"orders-{event.id}.{fmt}"
    handle, path = tempfile.mkstemp(suffix=f".{fmt}")
    os.close(handle)
    try:
        writer = write_csv if fmt == "csv" else write_xlsx
        count = writer(path, rows(event))
        published = export_files.publish(
            path, folder=f"orders/{event.id}", filename=filename, content_type=FORMATS[fmt]
        )
    finally:
        os.unlink(path)
    return Export(url=published.url, expires_at=published.expires_at, rows=count,
                  filename=filename)  # fmt: skip
