"""The table set, created idempotently, and a readiness check for /health."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import PynamoDBException, TableError
from pynamodb.models import Model

from chalicelib.db.allocations import Allocation
from chalicelib.db.buyers import Buyer
from chalicelib.db.changes import Change
from chalicelib.db.deliveries import Delivery
from chalicelib.db.events import Event
from chalicelib.db.idempotency import IdempotencyRecord
from chalicelib.db.link_tokens import LinkToken
from chalicelib.db.orders import Order
from chalicelib.db.queue_counters import QueueCounter
from chalicelib.db.rate_limits import RateCounter
from chalicelib.db.scanners import Scanner
from chalicelib.db.sending_slots import AccountSlots
from chalicelib.db.stock_shards import StockShard
from chalicelib.db.ticket_types import TicketType
from chalicelib.db.tickets import Ticket
from chalicelib.db.uniques import UniqueClaim
from chalicelib.db.users import User
from chalicelib.db.vouchers import Voucher
from chalicelib.db.waiting_list import WaitingEntry
from chalicelib.db.webhooks import Webhook

MODELS: tuple[type[Model], ...] = (
    User,
    UniqueClaim,
    Event,
    Allocation,
    Ticket,
    Buyer,
    IdempotencyRecord,
    LinkToken,
    RateCounter,
    Scanner,
    Change,
    Delivery,
    Webhook,
    TicketType,
    Order,
    AccountSlots,
    Voucher,
    WaitingEntry,
    QueueCounter,
    StockShard,
)


def create_tables() -> list[str]:
    """Create every missing table (and its TTL); safe to run again. Returns the names created."""
    created = []
    for model in MODELS:
        if model.exists():
            continue
        try:
            model.create_table(wait=True)
        except TableError as exc:
            # Another process created it between our check and our create: that is fine.
            if "ResourceInUseException" not in str(exc.cause or exc):
                raise
        else:
            created.append(model.Meta.table_name)
    return created


def unavailable_tables() -> list[str]:
    """Names of the tables that do not answer as ACTIVE; empty when all are usable."""
    down = []
    for model in MODELS:
        try:
            status = model.describe_table().get("TableStatus")
        except (PynamoDBException, BotoCoreError):
            status = None
        if status != "ACTIVE":
            down.append(model.Meta.table_name)
    return down
