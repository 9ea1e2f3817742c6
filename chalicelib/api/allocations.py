"""Reseller allocations and offers."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint, Param
from chalicelib.api.requests import id_param, page_params, parse_body
from chalicelib.api.responses import model_response, no_content, page_response
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.money import from_minor
from chalicelib.services.sales import allocations
from chalicelib.services.sales.allocations import Offer, ResellerAllocation, Share

bp = ApiBlueprint(__name__)
TAG = "allocations"


def allocation_out(share: Share) -> schemas.responses.AllocationOut:
    counts = share.counts
    return schemas.responses.AllocationOut(
        reseller_id=share.reseller_id,
        ticket_type_id=share.ticket_type_id,
        number_of_tickets=counts["share"],
        sold=counts["sold"],
        held=counts["held"],
        available=counts["available"],
        on_sale=share.pool.on_sale,
    )


def my_allocation_out(item: ResellerAllocation) -> schemas.responses.MyAllocationOut:
    share, event = item.share, item.event
    return schemas.responses.MyAllocationOut(
        event_id=event.id,
        event=schemas.responses.EventSummaryOut(
            title=event.title,
            time=event.time,
            price=from_minor(event.price_minor, event.currency_code),
            currency_code=event.currency_code,
        ),
        ticket_type_id=share.ticket_type_id,
        ticket_type_name=item.ticket_type_name,
        number_of_tickets=share.counts["share"],
        sold=share.counts["sold"],
        held=share.counts["held"],
        available=share.counts["available"],
        on_sale=share.pool.on_sale,
    )


def offer_out(offer: Offer) -> schemas.responses.OfferOut:
    return schemas.responses.OfferOut(
        seller_id=offer.pool.seller_id,
        seller_name=offer.seller.name if offer.seller else None,
        seller_role=offer.pool.seller_role,
        price=from_minor(offer.event.price_minor, offer.event.currency_code),
        currency_code=offer.event.currency_code,
        available=offer.pool.available,
    )


@bp.route(
    "/events/{event_id}/allocations",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="The event's reseller allocations (its organizer, admin)",
    tag=TAG,
    responses={200: "responses.AllocationList"},
)
def list_event_allocations(event_id: str) -> Response:
    shares = allocations.event_allocations(
        actor=principal_of(bp.current_request), event_id=event_id
    )
    return model_response(
        schemas.responses.AllocationList(allocations=[allocation_out(s) for s in shares])
    )


@bp.route(
    "/events/{event_id}/allocations/{reseller_id}",
    methods=["PUT"],
    authorizer=bearer_auth,
    summary="Set a reseller's share of the event (its organizer, admin)",
    description='More than the organizer has unsold: 409 "You cannot resell that many '
    'tickets."; below what the reseller sold: 409.',
    tag=TAG,
    body="events.AllocationBody",
    responses={200: "responses.AllocationEnvelope", 409: None},
)
def set_allocation(event_id: str, reseller_id: str) -> Response:
    body = parse_body(bp.current_request, schemas.events.AllocationBody)
    share = allocations.set_allocation(
        actor=principal_of(bp.current_request),
        event_id=event_id,
        reseller_id=reseller_id,
        number_of_tickets=body.number_of_tickets,
        ticket_type_id=body.ticket_type_id,
    )
    return model_response(schemas.responses.AllocationEnvelope(allocation=allocation_out(share)))


@bp.route(
    "/events/{event_id}/allocations/{reseller_id}",
    methods=["DELETE"],
    authorizer=bearer_auth,
    summary="Return a reseller's unsold tickets to the organizer (its organizer, admin)",
    tag=TAG,
    query=(Param("ticket_type_id", "Required when the event sells several ticket types."),),
    responses={204: None, 409: None},
)
def remove_allocation(event_id: str, reseller_id: str) -> Response:
    request = bp.current_request
    allocations.remove_allocation(
        actor=principal_of(request),
        event_id=event_id,
        reseller_id=reseller_id,
        ticket_type_id=id_param(request, "ticket_type_id"),
    )
    return no_content()


@bp.route(
    "/allocations",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="The tickets assigned to me (reseller)",
    tag=TAG,
    query=PAGE_PARAMS,
    responses={200: "responses.MyAllocationPage"},
)
def list_my_allocations() -> Response:
    limit, next_token = page_params(bp.current_request)
    page = allocations.my_allocations(
        actor=principal_of(bp.current_request), limit=limit, next_token=next_token
    )
    return page_response(schemas.responses.MyAllocationPage, "allocations", page, my_allocation_out)


@bp.route(
    "/allocations/{event_id}",
    methods=["PUT"],
    authorizer=bearer_auth,
    summary="Offer my available tickets to buyers, or withdraw them (reseller)",
    description="For every ticket type I hold of the event: `allocations` lists them, "
    "`allocation` is the first.",
    tag=TAG,
    body="events.OnSaleBody",
    responses={200: "responses.MyAllocationEnvelope"},
)
def set_on_sale(event_id: str) -> Response:
    body = parse_body(bp.current_request, schemas.events.OnSaleBody)
    rows = allocations.set_on_sale(
        actor=principal_of(bp.current_request), event_id=event_id, on_sale=body.on_sale
    )
    return model_response(
        schemas.responses.MyAllocationEnvelope(
            allocation=my_allocation_out(rows[0]),
            allocations=[my_allocation_out(r) for r in rows],
        )
    )


@bp.route(
    "/events/{event_id}/offers",
    methods=["GET"],
    summary="Who sells this event now",
    tag=TAG,
    responses={200: "responses.OfferList"},
)
def list_offers(event_id: str) -> Response:
    return model_response(
        schemas.responses.OfferList(
            offers=[offer_out(o) for o in allocations.offers(event_id=event_id)]
        )
    )
