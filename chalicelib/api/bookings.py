"""Bookings: /sold-tickets and /sold-tickets/{id}."""

from __future__ import annotations

from typing import Any

from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.api.requests import page_params, parse_body, query_params
from chalicelib.api.responses import json_response, no_content, page_response
from chalicelib.api.schemas.bookings import BookingBody, ChangeBuyerBody
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import optional_principal, principal_of
from chalicelib.db.bookings import Ticket
from chalicelib.money import from_minor
from chalicelib.services import bookings
from chalicelib.services.buyers import BuyerDetails

bp = ApiBlueprint(__name__)


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "event_id": ticket.event_id,
        "seller_id": ticket.seller_id,
        "buyer_id": ticket.buyer_id,
        "code": ticket.code,
        "price": from_minor(ticket.price_minor, ticket.currency_code),
        "currency_code": ticket.currency_code,
        "created_at": ticket.created_at.isoformat(),
    }


# No authorizer: buyers have no account. A seller's bearer token, when sent, is checked with
# the authorizer's own code.
@bp.route("/sold-tickets", methods=["POST"])
def book():
    request = bp.current_request
    body = parse_body(request, BookingBody)
    booking = bookings.book(
        actor=optional_principal(request),
        event_id=body.event_id,
        seller_id=body.seller_id,
        quantity=body.quantity,
        buyer=BuyerDetails(**body.buyer.model_dump()),
        idempotency_key=request.headers.get("idempotency-key"),
    )
    return json_response(
        {"tickets": [ticket_json(t) for t in booking.tickets], "email_sent": booking.email_sent},
        status=201,
    )


@bp.route("/sold-tickets", methods=["GET"], authorizer=bearer_auth)
def list_tickets():
    request = bp.current_request
    limit, next_token = page_params(request)
    page = bookings.list_tickets(
        actor=principal_of(request),
        event_id=query_params(request).get("event_id") or None,
        limit=limit,
        next_token=next_token,
    )
    return page_response("tickets", page, ticket_json)


@bp.route("/sold-tickets/{ticket_id}", methods=["GET"], authorizer=bearer_auth)
def get_ticket(ticket_id: str):
    ticket = bookings.get_ticket(actor=principal_of(bp.current_request), ticket_id=ticket_id)
    return json_response({"ticket": ticket_json(ticket)})


@bp.route("/sold-tickets/{ticket_id}", methods=["PUT"], authorizer=bearer_auth)
def change_buyer(ticket_id: str):
    body = parse_body(bp.current_request, ChangeBuyerBody)
    ticket = bookings.change_buyer(
        actor=principal_of(bp.current_request),
        ticket_id=ticket_id,
        buyer=BuyerDetails(**body.buyer.model_dump()),
    )
    return json_response({"ticket": ticket_json(ticket)})


@bp.route("/sold-tickets/{ticket_id}", methods=["DELETE"], authorizer=bearer_auth)
def cancel_ticket(ticket_id: str):
    bookings.cancel_ticket(actor=principal_of(bp.current_request), ticket_id=ticket_id)
    return no_content()
