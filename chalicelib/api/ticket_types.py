"""Ticket types: /events/{id}/ticket-types."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import ApiBlueprint, Param
from chalicelib.api.requests import id_param, parse_body
from chalicelib.api.responses import model_response, no_content
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import optional_principal, principal_of
from chalicelib.db.ticket_types import TicketType
from chalicelib.services.sales import ticket_types
from chalicelib.services.sales.ticket_types import TypeView

bp = ApiBlueprint(__name__)
TAG = "ticket types"


def ticket_type_out(ticket_type: TicketType, available: int) -> schemas.responses.TicketTypeOut:
    return schemas.responses.TicketTypeOut(
        id=ticket_type.id,
        name=ticket_type.name,
        description=ticket_type.description,
        price=ticket_types.price_of(ticket_type),
        currency_code=ticket_type.currency_code,
        quantity=ticket_type.own_quantity,
        sold=ticket_type.sold,
        held=ticket_type.held,
        available=available,
        available_from=ticket_type.available_from,
        available_until=ticket_type.available_until,
        max_per_order=ticket_type.max_per_order,
        on_sale=ticket_type.on_sale,
    )


def _view_out(view: TypeView) -> schemas.responses.TicketTypeOut:
    return ticket_type_out(view.ticket_type, view.available)


def _one(event_id: str, type_id: str, status: int = 200) -> Response:
    """The type as a seller-neutral view: `available` from the organizer's stock."""
    views = ticket_types.list_types(actor=principal_of(bp.current_request), event_id=event_id)
    view = next(v for v in views if v.ticket_type.id == type_id)
    return model_response(
        schemas.responses.TicketTypeEnvelope(ticket_type=_view_out(view)), status=status
    )


@bp.route(
    "/events/{event_id}/ticket-types",
    methods=["GET"],
    optional_auth=True,
    summary="The event's ticket types (anyone: those on sale; its organizer, admin: all)",
    description="Two reads whatever the event sold. `available` is what one order could take "
    "now from the seller named by `seller_id` (default: the calling seller, else the "
    "organizer). A door device's, a buyer's or an order's token: 403.",
    tag=TAG,
    query=(Param("seller_id", "Count this seller's stock in `available`."),),
    responses={200: "responses.TicketTypeList", 403: None},
)
def list_ticket_types(event_id: str) -> Response:
    request = bp.current_request
    views = ticket_types.list_types(
        actor=optional_principal(request),
        event_id=event_id,
        seller_id=id_param(request, "seller_id"),
    )
    return model_response(
        schemas.responses.TicketTypeList(ticket_types=[_view_out(v) for v in views])
    )


@bp.route(
    "/events/{event_id}/ticket-types",
    methods=["POST"],
    authorizer=bearer_auth,
    summary="Add a ticket type (the event's organizer, admin)",
    description="Names are unique within the event (409 `duplicate_ticket_type`); at most 20 "
    "types. The price is in the event's currency.",
    tag=TAG,
    body="ticket_types.CreateTicketTypeBody",
    responses={201: "responses.TicketTypeEnvelope", 409: None},
)
def create_ticket_type(event_id: str) -> Response:
    request = bp.current_request
    body = parse_body(request, schemas.ticket_types.CreateTicketTypeBody)
    created = ticket_types.create_type(
        actor=principal_of(request), event_id=event_id, **body.model_dump()
    )
    return _one(event_id, created.id, status=201)


@bp.route(
    "/events/{event_id}/ticket-types/{type_id}",
    methods=["PUT"],
    authorizer=bearer_auth,
    summary="Change a ticket type (the event's organizer, admin)",
    description="Any subset. `quantity` below sold + held: 409 `below_sold_and_held`; null "
    "removes the type's own limit. A new price applies to later orders only.",
    tag=TAG,
    body="ticket_types.UpdateTicketTypeBody",
    responses={200: "responses.TicketTypeEnvelope", 409: None},
)
def update_ticket_type(event_id: str, type_id: str) -> Response:
    request = bp.current_request
    body = parse_body(request, schemas.ticket_types.UpdateTicketTypeBody)
    ticket_types.update_type(
        actor=principal_of(request), event_id=event_id, type_id=type_id, **body.changes()
    )
    return _one(event_id, type_id)


@bp.route(
    "/events/{event_id}/ticket-types/{type_id}",
    methods=["DELETE"],
    authorizer=bearer_auth,
    summary="Delete a ticket type (the event's organizer, admin)",
    description="Only while none of it is sold or held and no reseller holds a share of it "
    "(409; set `on_sale: false` instead); an event keeps at least one type.",
    tag=TAG,
    responses={204: None, 409: None},
)
def delete_ticket_type(event_id: str, type_id: str) -> Response:
    ticket_types.delete_type(
        actor=principal_of(bp.current_request), event_id=event_id, type_id=type_id
    )
    return no_content()
