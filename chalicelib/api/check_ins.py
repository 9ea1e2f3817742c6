"""Tickets at the door: the keys that verify tickets' QR codes, and the revoked tickets."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint
from chalicelib.api.requests import page_params
from chalicelib.api.responses import model_response, page_response
from chalicelib.auth import ticket_keys
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.db.bookings import Ticket
from chalicelib.services import bookings

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
    summary="The event's cancelled tickets, for offline scanners (its organizer, admin)",
    description="Oldest cancellation first; a scanner that checks `qr` offline refuses these.",
    tag=TAG,
    query=PAGE_PARAMS,
    responses={200: "responses.RevokedPage"},
)
def list_revoked_tickets(event_id: str) -> Response:
    limit, next_token = page_params(bp.current_request)
    page = bookings.revoked_tickets(
        actor=principal_of(bp.current_request), event_id=event_id, limit=limit,
        next_token=next_token,
    )  # fmt: skip
    return page_response(schemas.responses.RevokedPage, "revoked", page, revoked_out)
