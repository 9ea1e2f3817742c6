"""Door devices: an event's organizer (or an admin) creates a scanner and gets its token once;
revoking the scanner deletes its record, and the authorizer refuses the token from then on."""

from __future__ import annotations

import functools

from pynamodb.transactions import TransactWrite

from chalicelib.auth import scanner_tokens
from chalicelib.auth.principal import Principal
from chalicelib.db import transactions
from chalicelib.db.base import new_id
from chalicelib.db.events import Event
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.db.scanners import Scanner
from chalicelib.errors import NotFound
from chalicelib.services.sales.events import owned_event
from chalicelib.services.stream.changes import record as record_change


def create_scanner(*, actor: Principal, event_id: str, name: str) -> tuple[Scanner, str]:
    """The new scanner and its bearer token, which is not stored and cannot be shown again."""
    owned_event(actor, event_id)
    token = scanner_tokens.new_token(new_id())
    scanner = Scanner(
        id=token.scanner_id,
        event_id=event_id,
        name=name,
        secret_hash=scanner_tokens.secret_hash(token.secret),
        created_by=actor.user_id,
    )

    def build(tx: TransactWrite) -> None:
        # The event may be deleted meanwhile: no scanner outlives it.
        tx.condition_check(Event, event_id, condition=Event.id.exists())
        tx.save(scanner, condition=Scanner.id.does_not_exist())
        _record(tx, "scanner.created", actor, scanner.id, event_id, name)

    if not transactions.write_unless_refused(build):
        raise NotFound()
    return scanner, str(token)


def list_scanners(
    *, actor: Principal, event_id: str, limit: int, next_token: str | None
) -> Page[Scanner]:
    owned_event(actor, event_id)
    query = functools.partial(Scanner.by_event.query, event_id)
    scope = f"scanners:{event_id}"
    return fetch_page(Scanner, query, scope=scope, limit=limit, next_token=next_token)


def revoke_scanner(*, actor: Principal, event_id: str, scanner_id: str) -> None:
    owned_event(actor, event_id)

    def build(tx: TransactWrite) -> None:
        tx.delete(Scanner(id=scanner_id), condition=Scanner.event_id == event_id)
        _record(tx, "scanner.revoked", actor, scanner_id, event_id)

    if not transactions.write_unless_refused(build):
        raise NotFound()


def _record(
    tx: TransactWrite, type_: str, actor: Principal, scanner_id: str, event_id: str,
    name: str | None = None,
) -> None:  # fmt: skip
    record_change(tx, type_, actor=actor, target_type="scanner", target_id=scanner_id,
                  event_id=event_id, details={"name": name} if name else None)  # fmt: skip
