"""Sold tickets: /sold-tickets (the original's one-step booking) and /sold-tickets/{id}."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint, Param
from chalicelib.api.requests import id_param, page_params, parse_body, source_ip
from chalicelib.api.responses import model_response, no_content, page_response
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import SELLER_ROLES, optional_principal, principal_of
from chalicelib.db.ticket_types import DEFAULT_NAME
from chalicelib.db.tickets import Ticket
from chalicelib.money import from_minor
from chalicelib.services.operations import limits
from chalicelib.services.sales import orders, tickets
from chalicelib.services.sales.buyers import BuyerDetails

bp = ApiBlueprint(__name__)
TAG = "bookings"


def ticket_out(ticket: Ticket) -> schemas.responses.TicketOut:
    return schemas.responses.TicketOut(
        id=ticket.id,
        event_id=ticket.event_id,
        order_id=ticket.order_id,
        # A ticket sold before ticket types has its event's first (the setup step names it).
        ticket_type_id=ticket.ticket_type_id or ticket.event_id,
        ticket_type_name=ticket.ticket_type_name or DEFAULT_NAME,
        seller_id=ticket.seller_id,
        buyer_id=ticket.buyer_id,
        holder=holder_out(ticket),
        code=ticket.code,
        qr=tickets.qr_of(ticket),
        price=from_minor(ticket.price_minor, ticket.currency_code),
        currency_code=ticket.currency_code,
        created_at=ticket.created_at,
        status=ticket_status(ticket),
        cancelled_at=ticket.cancelled_at,
        checked_in_at=ticket.checked_in_at,
    )


def holder_out(ticket: Ticket) -> schemas.responses.HolderOut | None:
    holder = ticket.holder
    return schemas.responses.HolderOut(name=holder.name, phone=holder.phone) if holder else None


def ticket_status(ticket: Ticket) -> str:
    if ticket.is_cancelled:
        return "cancelled"
    return "checked_in" if ticket.is_checked_in else "valid"


# No authorizer: buyers have no account. A seller's bearer token, when sent, is checked with
# the authorizer's own code.
@bp.route(
    "/sold-tickets",
    methods=["POST"],
    optional_auth=True,
    summary="Book tickets (anyone; a logged-in seller may book for a buyer)",
    description="The original's one-step booking: a paid order of one ticket type, its tickets "
    "issued at once. `seller_id` defaults to the logged-in seller, else to the event's "
    "organizer; `ticket_type_id` to the event's only type (400 when it has several). "
    'Sold out: 409 "Event sold out."; seller or type not on sale: 409 `not_on_sale`. An '
    "anonymous booking for an `online` event: 409 `payment_required` (POST /orders). The "
    "buyer record (unique by email) is created by the first booking and kept as it is by "
    "later ones; the name and phone given are stored on the tickets as `holder`. A door "
    "device's, a buyer's or an order's token books nothing: 403.",
    tag=TAG,
    body="bookings.BookingBody",
    headers=(
        Param(
            "Idempotency-Key",
            "Retrying with the same key and body returns the first result instead of booking "
            "again (parallel retries included: one books, the others return its tickets); "
            "another body is 422. Kept 24 hours.",
            {"type": "string", "minLength": 1, "maxLength": 255},
        ),
        Param(
            "X-Admission",
            "For an event with an on-sale queue, from its `opens_at` on: the admission the "
            "queue gave, as for POST /orders.",
            {"type": "string", "minLength": 1, "maxLength": 2048},
        ),
    ),
    responses={201: "responses.BookingOut", 403: None, 404: None, 409: None, 422: None},
    limited=True,
)
def book() -> Response:
    request = bp.current_request
    body = parse_body(request, schemas.bookings.BookingBody)
    actor = optional_principal(request)
    if actor is not None and actor.role in SELLER_ROLES:
        limits.enforce(booking_seller=actor.user_id)  # a box office serves many from one address
    else:
        limits.enforce(booking_ip=source_ip(request))
    placed = orders.place_order(
        actor=actor,
        event_id=body.event_id,
        seller_id=body.seller_id,
        lines=[orders.LineRequest(body.ticket_type_id, body.quantity)],
        buyer=BuyerDetails(**body.buyer.model_dump()),
        idempotency_key=request.headers.get("idempotency-key"),
        one_step=True,
        admission=request.headers.get("x-admission"),
    )
    out = schemas.responses.BookingOut(
        order_id=placed.order.id, tickets=[ticket_out(t) for t in placed.tickets], email="queued"
    )
    return model_response(out, status=201)


@bp.route(
    "/sold-tickets",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="Sold tickets (admin: all; organizer: their events; reseller: their sales)",
    tag=TAG,
    query=(Param("event_id", "Only this event's tickets."), *PAGE_PARAMS),
    responses={200: "responses.TicketPage", 404: None},
)
def list_tickets() -> Response:
    request = bp.current_request
    limit, next_token = page_params(request)
    page = tickets.list_tickets(
        actor=principal_of(request),
        event_id=id_param(request, "event_id"),
        limit=limit,
        next_token=next_token,
    )
    return page_response(schemas.responses.TicketPage, "tickets", page, ticket_out)


@bp.route(
    "/sold-tickets/{ticket_id}",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="One sold ticket (admin, the event's organizer, the seller)",
    tag=TAG,
    responses={200: "responses.TicketEnvelope"},
)
def get_ticket(ticket_id: str) -> Response:
    ticket = tickets.get_ticket(actor=principal_of(bp.current_request), ticket_id=ticket_id)
    return model_response(schemas.responses.TicketEnvelope(ticket=ticket_out(ticket)))


@bp.route(
    "/sold-tickets/{ticket_id}",
    methods=["PUT"],
    authorizer=bearer_auth,
    summary="Change a ticket's buyer (admin)",
    description="A cancelled ticket: 409 `ticket_cancelled`.",
    tag=TAG,
    body="bookings.ChangeBuyerBody",
    responses={200: "responses.TicketEnvelope", 409: None},
)
def change_buyer(ticket_id: str) -> Response:
    body = parse_body(bp.current_request, schemas.bookings.ChangeBuyerBody)
    ticket = tickets.change_buyer(
        actor=principal_of(bp.current_request),
        ticket_id=ticket_id,
        buyer=BuyerDetails(**body.buyer.model_dump()),
    )
    return model_response(schemas.responses.TicketEnvelope(ticket=ticket_out(ticket)))


@bp.route(
    "/sold-tickets/{ticket_id}",
    methods=["DELETE"],
    authorizer=bearer_auth,
    summary="Cancel a ticket; its seat returns to the seller (admin)",
    description="The ticket stays listed with `status: cancelled` (the door refuses it, the "
    "event's revoked tickets list it). Cancelling it again: 409 `ticket_cancelled`.",
    tag=TAG,
    responses={204: None, 409: None},
)
def cancel_ticket(ticket_id: str) -> Response:
    tickets.cancel_ticket(actor=principal_of(bp.current_request), ticket_id=ticket_id)
    return no_content()
