"""DynamoDB's per-partition limits, modelled in the local emulator (opt-in: DYNAMODB_LIMITS).

No emulator limits throughput, so nothing local could show that one event's orders stop
scaling at one partition key's rate. With `DYNAMODB_LIMITS` set, every DynamoDB request moto
serves (the local stack's emulator, or `mock_aws` in tests) is first charged to token buckets
kept per partition key, as DynamoDB charges it:

- writes: 1 WCU per KB of the item (the larger of the stored and the written item), twice that
  inside a transaction (condition checks included); every global secondary index whose key the
  item has costs 1 WCU per KB more, on the index's own partition key (a hot index key throttles
  its table's writes, as on AWS);
- reads: 1 RCU per 4 KB strongly consistent, half eventually consistent, twice inside a
  transaction; a Query is charged after it ran, by the size of its answer, to the partition key
  it read (the bucket may go into debt: the next request waits).

A bucket refills at its rate (`wcu`, `rcu` per second per partition key) and holds at most one
second of it; a request is served while its buckets are not empty. `table_wcu`, `table_rcu`
add a bucket per table (the on-demand table quota, 40,000 units a second by default). Past
them, the real error shapes: `ProvisionedThroughputExceededException` for a single call over a
partition key's rate and `ThrottlingException` over the table's (botocore retries both),
`TransactionCanceledException` with a `ThrottlingError` reason per throttled item for
transactions, `UnprocessedKeys` / `UnprocessedItems` for the throttled part of a batch.

A transaction holds the items it wrote for `conflict_ms` (the emulator serves requests one at a
time, so "at once" is "within that window"): another transaction touching one of them in that
time is cancelled with `TransactionConflict`, a single write with
`TransactionConflictException`. `conflict_rate` and `throttle_rate` add seeded random
conflicts and throttles to transactions (for property runs).

Not modelled: partitions holding several keys (a key is its own partition, which is what limits
a hot key), adaptive capacity and split-for-heat, warm throughput (a new on-demand table
starts at 4,000 write units a second and doubles with its peak: pre-warm it before a sale),
account quotas, Scan costs, item collections, LSIs, and the size an update adds to an item.

Specs: `aws` (1,000 WCU and 3,000 RCU per key, 40,000 of each per table, conflicts 2 ms) or a
list such as `wcu:20,rcu:60,table_wcu:800,conflict_ms:5,conflict_rate:0.01,seed:7`.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

THROTTLED = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically "
    "scaling your table or index so please try again shortly. If exceptions persist, check if "
    "you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
    "bp-partition-key-design.html"
)
IN_TRANSACTION = "Transaction is ongoing for the item"
TABLE_THROTTLED = "Rate of requests exceeds the allowed throughput."
PARTITION = "ProvisionedThroughputExceededException"  # one partition key's limit
TABLE = "ThrottlingException"  # the table's quota
PREFIX = "com.amazonaws.dynamodb.v20120810#"
EMPTY = 1e-9  # a bucket's floor: refills in float seconds leave crumbs


@dataclass(frozen=True)
class Limits:
    wcu: float  # write units per second per partition key
    rcu: float  # read units per second per partition key
    conflict_ms: float = 2.0
    # Table-wide units per second (0: none): the on-demand table quota, 40,000 by default.
    table_wcu: float = 0.0
    table_rcu: float = 0.0
    conflict_rate: float = 0.0
    throttle_rate: float = 0.0
    seed: int | None = None


AWS = Limits(wcu=1000, rcu=3000, table_wcu=40_000, table_rcu=40_000)


def parse(spec: str | None) -> Limits | None:
    """`DYNAMODB_LIMITS` -> Limits; None for unset, "" or "off". ValueError if malformed."""
    if spec is None or spec.strip().lower() in ("", "off"):
        return None
    if spec.strip().lower() == "aws":
        return AWS
    given: dict[str, float] = {}
    for part in spec.split(","):
        name, sep, value = part.strip().partition(":")
        if not sep or name not in Limits.__dataclass_fields__:
            raise ValueError(f"DYNAMODB_LIMITS: {part!r} is not name:value (wcu, rcu, ...)")
        try:
            given[name] = float(value)
        except ValueError:
            raise ValueError(f"DYNAMODB_LIMITS: {part!r} is not a number") from None
        if given[name] < 0 or math.isnan(given[name]):
            raise ValueError(f"DYNAMODB_LIMITS: {part!r} must not be negative")
    if not given.get("wcu") or not given.get("rcu"):
        raise ValueError("DYNAMODB_LIMITS needs wcu and rcu above 0 (or 'aws')")
    seed = given.pop("seed", None)
    return Limits(**given, seed=None if seed is None else int(seed))  # type: ignore[arg-type]


# --- sizes ----------------------------------------------------------------------------------


def _value_size(value: dict[str, Any]) -> int:
    """An attribute value's size as DynamoDB counts it (close enough for rounding to a KB)."""
    [(kind, inner)] = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return len(str(inner).lstrip("-").replace(".", "")) // 2 + 2
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: v}) for v in inner)
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in inner.items())
    return 1


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _plain(value: dict[str, Any]) -> str:
    """A key attribute as one comparable string."""
    [(kind, inner)] = value.items()
    return f"{kind}:{inner!r}"


# --- what the emulator tells the model about its tables ----------------------------------------


@dataclass(frozen=True)
class TableShape:
    hash_key: str
    range_key: str | None
    index_keys: dict[str, str]  # global secondary index -> its hash key attribute


class Store:
    """What the model needs from the emulator: each table's keys and its stored items."""

    def shape(self, table: str) -> TableShape | None:
        raise NotImplementedError

    def stored(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        raise NotImplementedError


# --- the model -------------------------------------------------------------------------------


@dataclass
class Bucket:
    rate: float
    tokens: float
    at: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now


@dataclass(frozen=True)
class Charge:
    """Units one request puts on one partition key's bucket."""

    partition: tuple[str, str, str]  # (table, index or "", hash key value)
    kind: str  # "w" or "r"
    units: float


@dataclass(frozen=True)
class Refusal:
    status: int
    body: dict[str, Any]

    @property
    def code(self) -> str:
        return str(self.body["__type"]).rsplit("#", 1)[-1]


def _error(name: str, message: str, **extra: Any) -> Refusal:
    return Refusal(400, {"__type": PREFIX + name, "message": message, **extra})


def _throttling(kind: str) -> Refusal:
    if kind == TABLE:
        return Refusal(400, {"__type": "com.amazon.coral.availability#ThrottlingException",
                             "message": TABLE_THROTTLED})  # fmt: skip
    return _error(PARTITION, THROTTLED)


@dataclass(frozen=True)
class Outcome:
    refusal: Refusal | None = None
    read_partition: tuple[str, str, str] | None = None  # a Query's, charged once it ran
    unprocessed: tuple[str, dict[str, Any]] | None = None  # a batch's throttled part


@dataclass
class Partitions:
    limits: Limits
    clock: Callable[[], float] = time.monotonic
    buckets: dict[tuple[str, str, str, str], Bucket] = field(default_factory=dict)
    busy_until: dict[tuple[str, str, str], float] = field(default_factory=dict)
    stats: Counter = field(default_factory=Counter)
    by_partition: Counter = field(default_factory=Counter)  # units charged per key and kind
    by_table: Counter = field(default_factory=Counter)  # units charged per table/index and kind

    def __post_init__(self) -> None:
        self._random = random.Random(self.limits.seed)  # noqa: S311 - seeded faults, not secrets
        self._lock = threading.Lock()

    def hottest(self, count: int = 10) -> list[dict[str, Any]]:
        """The partition keys charged most, write and read units apart."""
        return [
            {"table": table, "index": index or None, "key": key, "kind": kind, "units": units}
            for (table, index, key, kind), units in self.by_partition.most_common(count)
        ]

    def tables(self) -> list[dict[str, Any]]:
        """Units charged per table and index, write and read apart (the table quota's side)."""
        return [
            {"table": table, "index": index or None, "kind": kind, "units": units}
            for (table, index, kind), units in self.by_table.most_common()
        ]

    def _chance(self, rate: float) -> bool:
        return bool(rate) and self._random.random() < rate

    # buckets

    def _bucket(self, charge: Charge, now: float) -> Bucket:
        key = (*charge.partition, charge.kind)
        bucket = self.buckets.get(key)
        if bucket is None:
            rate = self.limits.wcu if charge.kind == "w" else self.limits.rcu
            bucket = self.buckets[key] = Bucket(rate=rate, tokens=rate, at=now)
        bucket.refill(now)
        return bucket

    def _table_bucket(self, table: str, kind: str, now: float) -> Bucket | None:
        rate = self.limits.table_wcu if kind == "w" else self.limits.table_rcu
        if not rate:
            return None
        key = (table, "", "*", kind)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(rate=rate, tokens=rate, at=now)
        bucket.refill(now)
        return bucket

    def _throttled(self, charges: list[Charge], now: float) -> str | None:
        """Which limit refuses these charges: a partition key's (PARTITION), the table's
        (TABLE), or none."""
        if any(self._bucket(c, now).tokens <= EMPTY for c in charges):
            return PARTITION
        for charge in charges:
            table = self._table_bucket(charge.partition[0], charge.kind, now)
            if table is not None and table.tokens <= EMPTY:
                return TABLE
        return None

    def _take(self, charges: list[Charge], now: float) -> None:
        for charge in charges:
            self._bucket(charge, now).tokens -= charge.units
            if not charge.partition[1]:  # the table's quota: its own items' units
                table = self._table_bucket(charge.partition[0], charge.kind, now)
                if table is not None:
                    table.tokens -= charge.units
            self.stats["wcu" if charge.kind == "w" else "rcu"] += charge.units
            self.by_partition[(*charge.partition, charge.kind)] += charge.units
            self.by_table[(charge.partition[0], charge.partition[1], charge.kind)] += charge.units

    # what a request costs

    @staticmethod
    def _item_key(shape: TableShape, key: dict[str, Any]) -> tuple[str, str]:
        range_part = _plain(key[shape.range_key]) if shape.range_key in key else ""
        return _plain(key[shape.hash_key]), range_part

    def _write_charges(
        self, store: Store, table: str, item: dict[str, Any] | None, key: dict[str, Any] | None,
        factor: float,
    ) -> tuple[list[Charge], tuple[str, str, str] | None]:  # fmt: skip
        shape = store.shape(table)
        if shape is None:
            return [], None  # moto answers ResourceNotFound itself
        if key is None and item is not None:
            key = {name: item[name] for name in (shape.hash_key, shape.range_key)
                   if name and name in item}  # fmt: skip
        if not key or shape.hash_key not in key:
            return [], None  # malformed: moto answers the validation error
        stored = store.stored(table, key)
        size = max(item_size(item), item_size(stored), 1)
        units = math.ceil(size / 1024)
        hash_value, range_value = self._item_key(shape, key)
        charges = [Charge((table, "", hash_value), "w", units * factor)]
        for index, attribute in shape.index_keys.items():
            for version in (item, stored):
                if version and attribute in version:
                    charges.append(Charge((table, index, _plain(version[attribute])), "w", units))
                    break
        return charges, (table, hash_value, range_value)

    def _read_charge(
        self, store: Store, table: str, key: dict[str, Any], consistent: bool, factor: float
    ) -> Charge | None:
        shape = store.shape(table)
        if shape is None or shape.hash_key not in key:
            return None
        size = max(item_size(store.stored(table, key)), 1)
        units = math.ceil(size / 4096) * (1.0 if consistent else 0.5) * factor
        return Charge((table, "", self._item_key(shape, key)[0]), "r", units)

    # requests

    def before(self, operation: str, params: dict[str, Any], store: Store) -> Outcome:
        """Charge the request, or refuse it as DynamoDB would. A batch's throttled part is
        taken out of `params` and named in the outcome (moto serves the rest)."""
        with self._lock:
            now = self.clock()
            handler = getattr(self, f"_before_{operation}", None)
            result = handler(params, store, now) if handler is not None else None
            outcome = result if isinstance(result, Outcome) else Outcome(refusal=result)
            if outcome.refusal is not None:
                self.stats[outcome.refusal.code] += 1
            elif outcome.unprocessed:
                self.stats["unprocessed"] += 1
            return outcome

    def after(self, outcome: Outcome, params: dict[str, Any], answer: dict[str, Any]) -> None:
        """What is known only once moto answered: a Query's size is charged to the partition
        it read; a batch's throttled part goes back as unprocessed."""
        with self._lock:
            if outcome.read_partition is not None:
                size = sum(item_size(i) for i in answer.get("Items", []))
                units = max(1, math.ceil(size / 4096)) * (
                    1.0 if params.get("ConsistentRead") else 0.5)  # fmt: skip
                self._take([Charge(outcome.read_partition, "r", units)], self.clock())
            if outcome.unprocessed:
                name, left = outcome.unprocessed
                answer[name] = {**(answer.get(name) or {}), **left}

    def _before_Query(self, params: dict[str, Any], store: Store, now: float) -> Outcome:
        table = params.get("TableName", "")
        shape = store.shape(table)
        index = params.get("IndexName") or ""
        if shape is None:
            return Outcome()
        hash_key = shape.index_keys.get(index) if index else shape.hash_key
        values = params.get("ExpressionAttributeValues") or {}
        names = params.get("ExpressionAttributeNames") or {}
        condition = params.get("KeyConditionExpression") or ""
        # The hash key's condition is "<name> = :value", alone or on one side of an AND.
        for clause in condition.replace("(", " ").replace(")", " ").split(" AND "):
            left, sep, right = clause.strip().partition("=")
            left = left.strip()
            if sep and names.get(left, left) == hash_key and right.strip() in values:
                partition = (table, index, _plain(values[right.strip()]))
                kind = self._throttled([Charge(partition, "r", 0)], now)
                if kind:
                    return Outcome(_throttling(kind))
                return Outcome(read_partition=partition)
        return Outcome()

    def _before_GetItem(self, params: dict[str, Any], store: Store, now: float) -> Refusal | None:
        charge = self._read_charge(store, params.get("TableName", ""), params.get("Key") or {},
                                   bool(params.get("ConsistentRead")), 1)  # fmt: skip
        if charge is None:
            return None
        kind = self._throttled([charge], now)
        if kind:
            return _throttling(kind)
        self._take([charge], now)
        return None

    def _single_write(
        self, params: dict[str, Any], store: Store, now: float, item: dict[str, Any] | None
    ) -> Refusal | None:
        charges, item_key = self._write_charges(
            store, params.get("TableName", ""), item, params.get("Key"), 1
        )
        if item_key is None:
            return None
        if self.busy_until.get(item_key, 0) > now:
            return _error("TransactionConflictException", IN_TRANSACTION)
        kind = self._throttled(charges, now)
        if kind:
            return _throttling(kind)
        self._take(charges, now)
        return None

    def _before_PutItem(self, params: dict[str, Any], store: Store, now: float) -> Refusal | None:
        return self._single_write(params, store, now, params.get("Item"))

    def _before_UpdateItem(self, params: dict, store: Store, now: float) -> Refusal | None:
        return self._single_write(params, store, now, None)

    def _before_DeleteItem(self, params: dict, store: Store, now: float) -> Refusal | None:
        return self._single_write(params, store, now, None)

    def _cancelled(self, reasons: list[dict[str, str]]) -> Refusal:
        """A transaction refused, with DynamoDB's reason per item; the reasons are counted by
        cause (throttles and conflicts apart)."""
        for reason in reasons:
            if reason["Code"] != "None":
                self.stats[reason["Code"]] += 1
        codes = ", ".join(r["Code"] for r in reasons)
        return _error(
            "TransactionCanceledException",
            f"Transaction cancelled, please refer cancellation reasons for specific reasons "
            f"[{codes}]",
            CancellationReasons=reasons,
        )

    def _before_TransactWriteItems(
        self, params: dict[str, Any], store: Store, now: float
    ) -> Refusal | None:
        per_item: list[tuple[list[Charge], tuple[str, str, str] | None]] = []
        for entry in params.get("TransactItems") or []:
            [(kind, op)] = entry.items() if len(entry) == 1 else [(None, {})]
            item = op.get("Item") if kind == "Put" else None
            per_item.append(self._write_charges(store, op.get("TableName", ""), item,
                                                op.get("Key"), 2))  # fmt: skip
        keys = [item_key for _, item_key in per_item if item_key is not None]
        if len(set(keys)) < len(keys):
            return None  # refused before anything is charged: moto answers the ValidationException
        reasons: list[dict[str, str]] = []
        for charges, item_key in per_item:
            busy = item_key is not None and self.busy_until.get(item_key, 0) > now
            if busy or self._chance(self.limits.conflict_rate):
                reasons.append({"Code": "TransactionConflict", "Message": IN_TRANSACTION})
            elif self._throttled(charges, now) or self._chance(self.limits.throttle_rate):
                reasons.append({"Code": "ThrottlingError", "Message": THROTTLED})
            else:
                reasons.append({"Code": "None"})
        if any(r["Code"] != "None" for r in reasons):
            return self._cancelled(reasons)
        for charges, item_key in per_item:
            self._take(charges, now)
            if item_key is not None and self.limits.conflict_ms:
                self.busy_until[item_key] = now + self.limits.conflict_ms / 1000
        return None

    def _before_TransactGetItems(self, params: dict, store: Store, now: float) -> Refusal | None:
        charges = []
        for entry in params.get("TransactItems") or []:
            get = entry.get("Get") or {}
            charge = self._read_charge(store, get.get("TableName", ""), get.get("Key") or {},
                                       True, 2)  # fmt: skip
            charges.append(charge)
        reasons = [{"Code": "ThrottlingError", "Message": THROTTLED}
                   if c is not None and self._throttled([c], now) else {"Code": "None"}
                   for c in charges]  # fmt: skip
        if any(r["Code"] != "None" for r in reasons):
            return self._cancelled(reasons)
        self._take([c for c in charges if c is not None], now)
        return None

    def _before_BatchGetItem(self, params: dict, store: Store, now: float) -> Refusal | Outcome:
        left: dict[str, Any] = {}
        served = 0
        for table, request in (params.get("RequestItems") or {}).items():
            keep = []
            for key in request.get("Keys") or []:
                charge = self._read_charge(store, table, key, bool(request.get("ConsistentRead")),
                                           1)  # fmt: skip
                if charge is not None and self._throttled([charge], now):
                    left.setdefault(table, {**request, "Keys": []})["Keys"].append(key)
                    continue
                if charge is not None:
                    self._take([charge], now)
                keep.append(key)
            request["Keys"] = keep
            served += len(keep)
        if left and not served:
            return _throttling(PARTITION)
        params["RequestItems"] = {t: r for t, r in params["RequestItems"].items() if r["Keys"]}
        return Outcome(unprocessed=("UnprocessedKeys", left) if left else None)

    def _before_BatchWriteItem(self, params: dict, store: Store, now: float) -> Refusal | Outcome:
        left: dict[str, list] = {}
        served = 0
        for table, requests in (params.get("RequestItems") or {}).items():
            keep = []
            for request in requests:
                put, delete = request.get("PutRequest"), request.get("DeleteRequest")
                item = put.get("Item") if put else None
                key = delete.get("Key") if delete else None
                charges, _ = self._write_charges(store, table, item, key, 1)
                if self._throttled(charges, now):
                    left.setdefault(table, []).append(request)
                    continue
                self._take(charges, now)
                keep.append(request)
            params["RequestItems"][table] = keep
            served += len(keep)
        if left and not served:
            return _throttling(PARTITION)
        params["RequestItems"] = {t: r for t, r in params["RequestItems"].items() if r}
        return Outcome(unprocessed=("UnprocessedItems", left) if left else None)


# --- moto -----------------------------------------------------------------------------------


class MotoStore(Store):
    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def _table(self, name: str) -> Any:
        return self._backend.tables.get(name)

    def shape(self, table: str) -> TableShape | None:
        found = self._table(table)
        if found is None:
            return None
        indexes = {}
        for index in found.global_indexes or []:
            hash_key = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
            indexes[index.name] = hash_key
        return TableShape(found.hash_key_attr, found.range_key_attr, indexes)

    def stored(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        from moto.dynamodb.models.dynamo_type import DynamoType

        found = self._table(table)
        if found is None:
            return None
        try:
            hash_value = DynamoType(key[found.hash_key_attr])
            range_value = DynamoType(key[found.range_key_attr]) if found.range_key_attr else None
            item = found.get_item(hash_value, range_value)
        except Exception:  # a malformed key: moto answers it itself
            return None
        return item.to_json()["Attributes"] if item is not None else None


_model: Partitions | None = None
_original_call_action: Any = None


def current() -> Partitions | None:
    return _model


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """Charge nothing inside the block: for seeding test data in bulk, which DynamoDB itself
    would throttle (10,000 tickets of one event in a second is 10 times one index key's rate)."""
    global _model
    kept, _model = _model, None
    try:
        yield
    finally:
        _model = kept


def install(
    limits: Limits | None, clock: Callable[[], float] = time.monotonic
) -> Partitions | None:
    """Charge every DynamoDB request moto serves in this process (None: take the model out)."""
    global _model, _original_call_action
    from moto.dynamodb.responses import DynamoHandler

    if _original_call_action is None:
        _original_call_action = DynamoHandler.call_action
        DynamoHandler.call_action = _call_action  # type: ignore[method-assign]
    _model = Partitions(limits, clock) if limits is not None else None
    return _model


def _call_action(self: Any) -> Any:
    model = _model
    if model is None:
        return _original_call_action(self)
    target = self.headers.get("X-Amz-Target") or self.headers.get("x-amz-target") or ""
    operation = target.rsplit(".", 1)[-1]
    params = getattr(self, "params", None)
    if not isinstance(params, dict):
        return _original_call_action(self)
    outcome = model.before(operation, params, MotoStore(self.dynamodb_backend))
    if outcome.refusal is not None:
        body = json.dumps(outcome.refusal.body)
        return outcome.refusal.status, {"Content-Type": "application/x-amz-json-1.0"}, body
    status, headers, body = _original_call_action(self)
    if status == 200 and (outcome.read_partition or outcome.unprocessed):
        answer = json.loads(body) if body else {}
        model.after(outcome, params, answer)
        body = json.dumps(answer)
        headers.pop("x-amz-crc32", None)
        headers.pop("X-Amz-Crc32", None)
    return status, headers, body
