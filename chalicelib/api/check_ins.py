"""Tickets at the door: the keys that verify tickets' QR codes, the event's scanners (door
devices), check-ins and revoked tickets."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint
from chalicelib.api.requests import page_params, parse_body
from chalicelib.api.responses import model_response, no_content, page_response
from chalicelib.auth import ticket_keys
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.db.scanners import Scanner
from chalicelib.db.tickets import Ticket
from chalicelib.services.door import check_ins, scanners

bp = ApiBlueprint(__name__)
TAG = "check-in"


@bp.route(
    "/ticket-keys",
    methods=["GET"],
    summary="The public keys that verify tickets' `qr` (JWKS)",
    description="A scanner keeps these to check tickets offline: each ticket's `qr` is a JWS "
    "whose header `kid` names one of them. Keys stay listed after a rotation.",
    tag=TAG,
    responses={200: "responses.TicketKeysOut"},
)
def get_ticket_keys() -> Response:
    response = model_response(schemas.responses.TicketKeysOut(keys=ticket_keys.published_keys()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def revoked_out(ticket: Ticket) -> schemas.responses.RevokedOut:
    return schemas.responses.RevokedOut(ticket_id=ticket.id, cancelled_at=ticket.cancelled_at)


@bp.route(
    "/events/{event_id}/revoked-tickets",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="The event's cancelled tickets, for offline scanners (its organizer, admin, its "
    "scanners)",
    description="Oldest cancellation first; a scanner that checks `qr` offline refuses these.",
    tag=TAG,
    query=PAGE_PARAMS,
    responses={200: "responses.RevokedPage"},
)
def list_revoked_tickets(event_id: str) -> Response:
    limit, next_token = page_params(bp.current_request)
    page = check_ins.revoked_tickets(
        actor=principal_of(bp.current_request), event_id=event_id, limit=limit,
        next_token=next_token,
    )  # fmt: skip
    return page_response(schemas.responses.RevokedPage, "revoked", page, revoked_out)


# --- scanners --------------------------------------------------------------------------


def scanner_out(scanner: Scanner) -> schemas.responses.ScannerOut:
    return schemas.responses.ScannerOut(
        id=scanner.id, name=scanner.name, created_at=scanner.created_at
    )


@bp.route(
    "/events/{event_id}/scanners",
    methods=["POST"],
    authorizer=bearer_auth,
    summary="Create a door device's token for the event (its organizer, admin)",
    description="The token is shown once. It checks in this event's tickets and reads the "
    "event's check-ins and revoked tickets; every other route refuses it (403).",
    tag=TAG,
    body="check_ins.CreateScannerBody",
    responses={201: "responses.ScannerCreatedOut"},
)
def create_scanner(event_id: str) -> Response:
    body = parse_body(bp.current_request, schemas.check_ins.CreateScannerBody)
    scanner, token = scanners.create_scanner(
        actor=principal_of(bp.current_request), event_id=event_id, name=body.name
    )
    created = schemas.responses.ScannerCreatedOut(scanner=scanner_out(scanner), token=token)
    return model_response(created, status=201)


@bp.route(
    "/events/{event_id}/scanners",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="The event's scanners (its organizer, admin)",
    tag=TAG,
    query=PAGE_PARAMS,
    responses={200: "responses.ScannerPage"},
)
def list_scanners(event_id: str) -> Response:
    limit, next_token = page_params(bp.current_request)
    page = scanners.list_scanners(
        actor=principal_of(bp.current_request), event_id=event_id, limit=limit,
        next_token=next_token,
    )  # fmt: skip
    return page_response(schemas.responses.ScannerPage, "scanners", page, scanner_out)


@bp.route(
    "/events/{event_id}/scanners/{scanner_id}",
    methods=["DELETE"],
    authorizer=bearer_auth,
    summary="Revoke a scanner: its token stops working at once (its organizer, admin)",
    tag=TAG,
    responses={204: None},
)
def revoke_scanner(event_id: str, scanner_id: str) -> Response:
    scanners.revoke_scanner(
        actor=principal_of(bp.current_request), event_id=event_id, scanner_id=scanner_id
    )
    return no_content()


# --- check-ins -------------------------------------------------------------------------


def check_in_out(ticket: Ticket) -> schemas.responses.CheckInOut:
    return schemas.responses.CheckInOut(
        ticket_id=ticket.id,
        code=ticket.code,
        holder_name=ticket.holder.name if ticket.holder else None,
        checked_in_at=ticket.checked_in_at,
    )


@bp.route(
    "/events/{event_id}/check-ins",
    methods=["POST"],
    authorizer=bearer_auth,
    summary="Check a ticket in, exactly once (its organizer, admin, its scanners)",
    description="Give the ticket's scanned `qr` or its typed `code`. The first check-in is a "
    "201; any later one a 409 `already_checked_in` with `details.checked_in_at`, except a retry "
    "with the same `nonce` from the same device, answered 200 with the first answer. A forged "
    "or unknown ticket: 404 `ticket_not_found`; another event's: 409 `wrong_event`; a cancelled "
    "one: 409 `ticket_cancelled`. An offline scan uploaded later carries `scanned_at`; when two "
    "devices scanned one ticket, the record keeps the earliest time.",
    tag=TAG,
    body="check_ins.CheckInBody",
    responses={201: "responses.CheckInEnvelope", 200: "responses.CheckInEnvelope", 404: None,
               409: None},
)  # fmt: skip
def check_in(event_id: str) -> Response:
    body = parse_body(bp.current_request, schemas.check_ins.CheckInBody)
    done = check_ins.check_in(
        actor=principal_of(bp.current_request), event_id=event_id, qr=body.qr, code=body.code,
        nonce=body.nonce, scanned_at=body.scanned_at,
    )  # fmt: skip
    answer = schemas.responses.CheckInEnvelope(check_in=check_in_out(done.ticket))
    return model_response(answer, status=201 if done.first else 200)


@bp.route(
    "/events/{event_id}/check-ins",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="How many got in, and who (its organizer, admin, its scanners)",
    tag=TAG,
    query=PAGE_PARAMS,
    responses={200: "responses.CheckInPage"},
)
def list_check_ins(event_id: str) -> Response:
    limit, next_token = page_params(bp.current_request)
    counts, page = check_ins.list_check_ins(
        actor=principal_of(bp.current_request), event_id=event_id, limit=limit,
        next_token=next_token,
    )  # fmt: skip
    body = schemas.responses.CheckInPage(
        sold=counts.sold,
        checked_in=counts.checked_in,
        check_ins=[check_in_out(t) for t in page.items],
        next_token=page.next_token,
    )
    return model_response(body)


@bp.route(
    "/events/{event_id}/check-ins/{ticket_id}",
    methods=["DELETE"],
    authorizer=bearer_auth,
    summary="Undo a check-in made by mistake (its organizer, admin)",
    description="A ticket that is not checked in: 409 `not_checked_in`.",
    tag=TAG,
    responses={204: None, 409: None},
)
def undo_check_in(event_id: str, ticket_id: str) -> Response:
    check_ins.undo_check_in(
        actor=principal_of(bp.current_request), event_id=event_id, ticket_id=ticket_id
    )
    return no_content()
