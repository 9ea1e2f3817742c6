"""Reseller allocations and offers."""

from __future__ import annotations

from typing import Any

from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.api.requests import page_params, parse_body
from chalicelib.api.responses import json_response, no_content, page_response
from chalicelib.api.schemas.events import AllocationBody, OnSaleBody
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.db.allocations import Allocation
from chalicelib.money import from_minor
from chalicelib.services import allocations
from chalicelib.services.allocations import Offer, ResellerAllocation

bp = ApiBlueprint(__name__)


def allocation_json(pool: Allocation) -> dict[str, Any]:
    return {
        "reseller_id": pool.seller_id,
        "number_of_tickets": pool.number_of_tickets,
        "sold": pool.sold,
        "available": pool.available,
        "on_sale": pool.on_sale,
    }


def my_allocation_json(item: ResellerAllocation) -> dict[str, Any]:
    pool, event = item.allocation, item.event
    return {
        "event_id": pool.event_id,
        "event": {
            "title": event.title,
            "time": event.time.isoformat(),
            "price": from_minor(event.price_minor, event.currency_code),
            "currency_code": event.currency_code,
        },
        "number_of_tickets": pool.number_of_tickets,
        "sold": pool.sold,
        "available": pool.available,
        "on_sale": pool.on_sale,
    }


def offer_json(offer: Offer) -> dict[str, Any]:
    return {
        "seller_id": offer.pool.seller_id,
        "seller_name": offer.seller.name if offer.seller else None,
        "seller_role": offer.pool.seller_role,
        "price": from_minor(offer.event.price_minor, offer.event.currency_code),
        "currency_code": offer.event.currency_code,
        "available": offer.pool.available,
    }


@bp.route("/events/{event_id}/allocations", methods=["GET"], authorizer=bearer_auth)
def list_event_allocations(event_id: str):
    pools = allocations.event_allocations(actor=principal_of(bp.current_request), event_id=event_id)
    return json_response({"allocations": [allocation_json(p) for p in pools]})


@bp.route("/events/{event_id}/allocations/{reseller_id}", methods=["PUT"], authorizer=bearer_auth)
def set_allocation(event_id: str, reseller_id: str):
    body = parse_body(bp.current_request, AllocationBody)
    pool = allocations.set_allocation(
        actor=principal_of(bp.current_request),
        event_id=event_id,
        reseller_id=reseller_id,
        number_of_tickets=body.number_of_tickets,
    )
    return json_response({"allocation": allocation_json(pool)})


@bp.route(
    "/events/{event_id}/allocations/{reseller_id}", methods=["DELETE"], authorizer=bearer_auth
)
def remove_allocation(event_id: str, reseller_id: str):
    allocations.remove_allocation(
        actor=principal_of(bp.current_request), event_id=event_id, reseller_id=reseller_id
    )
    return no_content()


@bp.route("/allocations", methods=["GET"], authorizer=bearer_auth)
def list_my_allocations():
    limit, next_token = page_params(bp.current_request)
    page = allocations.my_allocations(
        actor=principal_of(bp.current_request), limit=limit, next_token=next_token
    )
    return page_response("allocations", page, my_allocation_json)


@bp.route("/allocations/{event_id}", methods=["PUT"], authorizer=bearer_auth)
def set_on_sale(event_id: str):
    body = parse_body(bp.current_request, OnSaleBody)
    item = allocations.set_on_sale(
        actor=principal_of(bp.current_request), event_id=event_id, on_sale=body.on_sale
    )
    return json_response({"allocation": my_allocation_json(item)})


@bp.route("/events/{event_id}/offers", methods=["GET"])
def list_offers(event_id: str):
    return json_response({"offers": [offer_json(o) for o in allocations.offers(event_id=event_id)]})
