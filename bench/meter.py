"""What DynamoDB bills and limits, counted around one request: calls, items, capacity units.

Capacity follows DynamoDB's published rules rather than the emulator's (moto reports a constant):
a read costs 1 unit per 4 KB of item for a strongly consistent read (half for an eventually
consistent one; a Query rounds up the total it read, a GetItem or BatchGetItem each item); a
write costs 1 unit per 1 KB of the item; inside a transaction both cost double. A refused
(cancelled) transaction is counted as if it had written: an upper bound. The size of an
item written by an update is only known afterwards, so updates are sized by reading the item
back once the request is over (outside the count).
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from chalicelib.auth import authorizer
from chalicelib.db.base import _shared_connection

_in_authorizer = threading.local()


def _value_size(value: dict[str, Any]) -> int:
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return math.ceil(len(data.lstrip("-").replace(".", "").lstrip("0") or "0") / 2) + 1
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: v}) for v in data)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in data.items())
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in data)
    raise ValueError(kind)


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it: attribute names plus values, in bytes."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _read_units(size: int, consistent: bool) -> float:
    units = math.ceil(max(size, 1) / 4096)
    return units if consistent else units / 2


@dataclass
class Cost:
    calls: int = 0
    items: int = 0
    read_units: float = 0.0
    write_units: float = 0.0
    operations: list[str] = field(default_factory=list)
    # Calls to Stripe's API (by what they were for), made by chalicelib.payments.stripe_api.
    stripe: list[str] = field(default_factory=list)
    # (table, key, transactional) of updates and deletes, sized after the request
    _pending_writes: list[tuple[str, dict, bool]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "items": self.items,
            "read_units": self.read_units,
            "write_units": self.write_units,
            "operations": self.operations,
            "stripe_calls": len(self.stripe),
            "stripe": self.stripe,
        }


class Meter:
    """Counts the API function's DynamoDB work. The authorizer is a separate Lambda with its own
    cost (one GetItem), so calls made while it runs are left out."""

    def __init__(self) -> None:
        self.cost = Cost()
        self._params: dict[str, Any] = {}

    def before(self, params: dict, **_: Any) -> None:
        self._params = params

    def after(self, model: Any, parsed: dict, **_: Any) -> None:
        if getattr(_in_authorizer, "active", False):
            return
        cost, params, name = self.cost, self._params, model.name
        cost.calls += 1
        cost.operations.append(name)
        consistent = bool(params.get("ConsistentRead"))
        if name in ("Query", "Scan"):
            items = parsed.get("Items", [])
            cost.items += parsed.get("ScannedCount", len(items))
            cost.read_units += _read_units(sum(map(item_size, items)), consistent)
        elif name == "GetItem":
            cost.items += 1
            cost.read_units += _read_units(item_size(parsed.get("Item", {})), consistent)
        elif name == "BatchGetItem":
            # Every key asked is a read, found or not (a missing item costs the minimum).
            for table, request in params.get("RequestItems", {}).items():
                table_consistent = request.get("ConsistentRead", False)
                items = parsed.get("Responses", {}).get(table, [])
                unprocessed = len(parsed.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []))
                missing = len(request["Keys"]) - len(items) - unprocessed
                cost.items += len(items)
                for item in items:
                    cost.read_units += _read_units(item_size(item), table_consistent)
                cost.read_units += missing * _read_units(0, table_consistent)
        elif name == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                ((kind, op),) = entry.items()
                cost.items += 1
                if kind == "Put":
                    cost.write_units += 2 * math.ceil(item_size(op["Item"]) / 1024)
                elif kind == "ConditionCheck":
                    cost.read_units += 2  # a transactional read of up to 4 KB
                else:
                    cost._pending_writes.append((op["TableName"], op["Key"], True))
        elif name == "PutItem":
            cost.items += 1
            cost.write_units += math.ceil(item_size(params["Item"]) / 1024)
        elif name in ("UpdateItem", "DeleteItem"):
            cost.items += 1
            cost._pending_writes.append((params["TableName"], params["Key"], False))
        elif name == "BatchWriteItem":
            for requests in params.get("RequestItems", {}).values():
                for request in requests:
                    cost.items += 1
                    item = request.get("PutRequest", {}).get("Item")
                    cost.write_units += math.ceil(item_size(item) / 1024) if item else 1

    def settle(self) -> Cost:
        """Size the updated and deleted items (read back now, uncounted)."""
        client = _shared_connection().client
        for table, key, transactional in self.cost._pending_writes:
            item = client.get_item(TableName=table, Key=key).get("Item") or key
            self.cost.write_units += (2 if transactional else 1) * math.ceil(item_size(item) / 1024)
        self.cost._pending_writes.clear()
        return self.cost


@contextlib.contextmanager
def metered(*, count_authorizer: bool = False) -> Iterator[Meter]:
    """Count the DynamoDB work done inside the block; `meter.cost` once it is over. Calls the
    Chalice authorizer makes are left out unless `count_authorizer`."""
    meter = Meter()
    events = _shared_connection().client.meta.events
    events.register("before-parameter-build.dynamodb.*", meter.before)
    events.register("after-call.dynamodb.*", meter.after)
    original = authorizer.authenticate

    def authenticate(header: str | None) -> Any:
        _in_authorizer.active = True
        try:
            return original(header)
        finally:
            _in_authorizer.active = False

    from chalicelib.payments import stripe_api

    stripe_call = stripe_api._call

    def counted(what: str, *args: Any, **kwargs: Any) -> Any:
        meter.cost.stripe.append(what)
        return stripe_call(what, *args, **kwargs)

    stripe_api._call = counted
    if not count_authorizer:
        authorizer.authenticate = authenticate
    try:
        yield meter
    finally:
        authorizer.authenticate = original
        stripe_api._call = stripe_call
        events.unregister("before-parameter-build.dynamodb.*", meter.before)
        events.unregister("after-call.dynamodb.*", meter.after)
        meter.settle()
