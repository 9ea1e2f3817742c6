"""Pages of query results, with opaque, tamper-evident `next_token`s."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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


def encode_next_token(last_key: dict[str, Any]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(last_key, sort_keys=True).encode())
    return f"{payload.decode().rstrip('=')}.{_signature(payload.rstrip(b'='))}"


def decode_next_token(token: str) -> dict[str, Any]:
    """The start key a `next_token` stands for; a forged or mangled one is a 400."""
    invalid = InvalidRequest(details={"next_token": "Invalid or expired pagination token."})
    payload, _, signature = token.partition(".")
    if not hmac.compare_digest(signature, _signature(payload.encode())):
        raise invalid
    try:
        key = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        raise invalid from None
    if not isinstance(key, dict):
        raise invalid
    return key


def fetch_page(
    model: type[Model],
    query: Callable[..., ResultIterator[Any]],
    *,
    limit: int,
    next_token: str | None,
) -> Page[Any]:
    """Exactly one Query/Scan call of at most `limit` items, so a page costs the same whatever
    the table's size. With a filter the page may hold fewer items while `next_token` is set."""
    start = decode_next_token(next_token) if next_token else None
    pages = query(page_size=limit, last_evaluated_key=start).page_iter
    raw = next(pages, {})
    items = [model.from_raw_data(item) for item in raw.get("Items", [])]
    last_key = pages.last_evaluated_key
    return Page(items=items, next_token=encode_next_token(last_key) if last_key else None)
