"""Pages of query results, with opaque, tamper-evident `next_token`s."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model
from pynamodb.pagination import ResultIterator

from chalicelib.errors import InvalidRequest
from chalicelib.settings import get_settings

Item = TypeVar("Item")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Page(Generic[Item]):
    items: list[Item]
    next_token: str | None


def _signature(payload: bytes) -> str:
    key = get_settings().jwt_secret.encode()
    digest = hmac.new(key, b"next_token:" + payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def encode_next_token(last_key: dict[str, Any], scope: str) -> str:
    body = json.dumps({"key": last_key, "scope": scope}, sort_keys=True).encode()
    payload = base64.urlsafe_b64encode(body).rstrip(b"=")
    return f"{payload.decode()}.{_signature(payload)}"


def decode_next_token(token: str, scope: str) -> dict[str, Any]:
    """The start key a `next_token` stands for. A forged or mangled token, or one from another
    listing (whose key would not fit this query's index), is a 400."""
    invalid = InvalidRequest(details={"next_token": "Invalid or expired pagination token."})
    if not token.isascii():  # compare_digest refuses non-ASCII str: no token of ours has any
        raise invalid
    payload, _, signature = token.partition(".")
    if not hmac.compare_digest(signature, _signature(payload.encode())):
        raise invalid
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        raise invalid from None
    if (
        not isinstance(data, dict)
        or data.get("scope") != scope
        or not isinstance(data.get("key"), dict)
    ):
        raise invalid
    return data["key"]


Query = Callable[..., ResultIterator[Any]]


def fetch_page(
    model: type[Model],
    query: Query | Sequence[Query],
    *,
    scope: str,
    limit: int,
    next_token: str | None,
) -> Page[Any]:
    """Exactly one Query/Scan call of at most `limit` items, so a page costs the same whatever
    the table's size. With a filter the page may hold fewer items while `next_token` is set.

    `query` may be several, one per part of a write-sharded index key (db/index_parts.py):
    they are read in turn, a part that has nothing more passing on to the next within the
    same page (at most one call per part).

    `scope` names the listing (table, index, partition, filters): a token only continues the
    listing that issued it.
    """
    start = decode_next_token(next_token, scope) if next_token else None
    if callable(query):
        raw, last_key = _one_call(model, query, start, limit)
        token = encode_next_token(last_key, scope) if last_key else None
        return Page(items=raw, next_token=token)
    parts = list(query)
    index, start_key = _part_start(start, len(parts))
    while True:
        items, last_key = _one_call(model, parts[index], start_key, limit)
        if last_key:
            return Page(items, encode_next_token({"part": index, "start": last_key}, scope))
        index, start_key = index + 1, None
        if index == len(parts):
            return Page(items, None)
        if items:
            return Page(items, encode_next_token({"part": index}, scope))


def _part_start(start: dict[str, Any] | None, parts: int) -> tuple[int, dict[str, Any] | None]:
    if start is None:
        return 0, None
    index, key = start.get("part"), start.get("start")
    if not isinstance(index, int) or not 0 <= index < parts or not isinstance(key, dict | None):
        raise InvalidRequest(details={"next_token": "Does not fit this listing."})
    return index, key


def _one_call(
    model: type[Model], query: Query, start: dict[str, Any] | None, limit: int
) -> tuple[list[Any], dict[str, Any] | None]:
    pages = query(page_size=limit, last_evaluated_key=start).page_iter
    try:
        raw = next(pages, {})
    except PynamoDBException as exc:
        if start is not None and exc.cause_response_code == "ValidationException":
            raise InvalidRequest(details={"next_token": "Does not fit this listing."}) from None
        raise
    return [model.from_raw_data(item) for item in raw.get("Items", [])], pages.last_evaluated_key


def shorten(page: Page[Any], keep: int, *, scope: str, key_names: tuple[str, ...]) -> Page[Any]:
    """The first `keep` items of a page (at least one), continuing right after the last one kept.

    `key_names` are the attributes of the query's start key: the table's key and, for an
    index, the index's key.
    """
    if keep >= len(page.items):
        return page
    last = page.items[keep - 1].serialize()
    start_key = {name: last[name] for name in key_names}
    return Page(items=page.items[:keep], next_token=encode_next_token(start_key, scope))
