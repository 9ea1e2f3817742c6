"""Items of several tables read in one strongly consistent BatchGetItem call."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import GetError
from pynamodb.models import Model

from chalicelib.db.base import _shared_connection

# UnprocessedKeys come back only when DynamoDB throttles; each retry is one more call.
UNPROCESSED_RETRIES = 4

Key = tuple[type[Model], str, str | None]


def _key_attributes(model: type[Model]) -> list[Any]:
    attributes = [model._hash_key_attribute()]
    if model._range_key_attribute() is not None:
        attributes.append(model._range_key_attribute())
    return attributes


def _key_names(model: type[Model]) -> tuple[str, ...]:
    return tuple(attribute.attr_name for attribute in _key_attributes(model))


def _serialized_key(key: Key) -> dict[str, Any]:
    model, *values = key
    return {
        attribute.attr_name: {attribute.attr_type: attribute.serialize(value)}
        for attribute, value in zip(_key_attributes(model), values, strict=False)
    }


# BatchGetItem's own limit on keys per call.
KEYS_PER_CALL = 100


def get_items(keys: Sequence[Key]) -> list[Model | None]:
    """Each key's item, or None where there is none, in the order asked (from any tables).
    One call per 100 keys unless DynamoDB throttles part of one."""
    return [
        item
        for start in range(0, len(keys), KEYS_PER_CALL)
        for item in _get_call(keys[start : start + KEYS_PER_CALL])
    ]


def _get_call(keys: Sequence[Key]) -> list[Model | None]:
    tables: dict[str, dict[str, Any]] = {}
    wanted: dict[tuple[str, tuple], int] = {}
    models: dict[str, type[Model]] = {}
    for index, key in enumerate(keys):
        model = key[0]
        table = model.Meta.table_name
        models[table] = model
        serialized = _serialized_key(key)
        wanted[(table, _identity(serialized, model))] = index
        tables.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(serialized)
    found: list[Model | None] = [None] * len(keys)
    connection = _shared_connection()
    request = tables
    for attempt in range(UNPROCESSED_RETRIES + 1):
        try:
            answer = connection.dispatch("BatchGetItem", {"RequestItems": request})
        except (BotoCoreError, ClientError) as exc:
            raise GetError(f"Failed to batch get items: {exc}", exc) from exc
        for table, items in answer.get("Responses", {}).items():
            model = models[table]
            for raw in items:
                found[wanted[(table, _identity(raw, model))]] = model.from_raw_data(raw)
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            return found
        time.sleep(0.05 * 2**attempt)
    raise GetError("BatchGetItem left keys unprocessed after retries")


def _identity(item: dict[str, Any], model: type[Model]) -> tuple:
    return tuple(next(iter(item[name].values())) for name in _key_names(model))
