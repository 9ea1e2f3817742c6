"""Request and response bodies as pydantic models: what the API validates is what it documents.

Loaded on first use, never at a cold start: pydantic and these classes are ~100 ms of import,
and a request needs only its own route's models. Route documentation names a model as
"module.Class" (e.g. "events.CreateEventBody"), and views reach it as
`schemas.events.CreateEventBody`; the first such access imports that module alone.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import BaseModel

MODULES = frozenset(
    {
        "accounts",
        "bookings",
        "check_ins",
        "common",
        "events",
        "my_tickets",
        "orders",
        "payments",
        "responses",
        "social",
        "ticket_types",
        "users",
        "vouchers",
        "waiting_list",
        "webhooks",
    }
)
_REF = re.compile(r"(\w+)\.(\w+)")


def __getattr__(name: str) -> ModuleType:
    if name not in MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module(f"{__name__}.{name}")


def is_model_ref(ref: str) -> bool:
    """Whether `ref` is written as a model reference ("module.Class" of a known module)."""
    match = _REF.fullmatch(ref)
    return bool(match) and match.group(1) in MODULES


def model(ref: str) -> type[BaseModel]:
    """The model a "module.Class" reference names (importing its module)."""
    if not is_model_ref(ref):
        raise ValueError(f"not a schema reference: {ref!r}")
    module, name = ref.split(".")
    found = getattr(__getattr__(module), name, None)
    if found is None:
        raise ValueError(f"no schema {name} in chalicelib.api.schemas.{module}")
    return found
