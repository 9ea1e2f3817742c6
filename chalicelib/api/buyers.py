"""Buyers: /buyers and /buyers/{id} (admins only)."""

from __future__ import annotations

from typing import Any

from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.api.requests import page_params, parse_body
from chalicelib.api.responses import json_response, no_content, page_response
from chalicelib.api.schemas.bookings import UpdateBuyerBody
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.db.buyers import Buyer
from chalicelib.services import buyers

bp = ApiBlueprint(__name__)


def buyer_json(buyer: Buyer) -> dict[str, Any]:
    return {
        "id": buyer.id,
        "name": buyer.name,
        "email": buyer.email,
        "phone": buyer.phone,
        "created_at": buyer.created_at.isoformat(),
        "updated_at": buyer.updated_at.isoformat(),
    }


@bp.route("/buyers", methods=["GET"], authorizer=bearer_auth)
def list_buyers():
    limit, next_token = page_params(bp.current_request)
    page = buyers.list_buyers(
        actor=principal_of(bp.current_request), limit=limit, next_token=next_token
    )
    return page_response("buyers", page, buyer_json)


@bp.route("/buyers/{buyer_id}", methods=["GET"], authorizer=bearer_auth)
def get_buyer(buyer_id: str):
    buyer, ticket_ids = buyers.get_buyer(actor=principal_of(bp.current_request), buyer_id=buyer_id)
    return json_response({"buyer": {**buyer_json(buyer), "tickets": ticket_ids}})


@bp.route("/buyers/{buyer_id}", methods=["PUT"], authorizer=bearer_auth)
def update_buyer(buyer_id: str):
    body = parse_body(bp.current_request, UpdateBuyerBody)
    buyer = buyers.update_buyer(
        actor=principal_of(bp.current_request), buyer_id=buyer_id, **body.model_dump()
    )
    return json_response({"buyer": buyer_json(buyer)})


@bp.route("/buyers/{buyer_id}", methods=["DELETE"], authorizer=bearer_auth)
def delete_buyer(buyer_id: str):
    buyers.delete_buyer(actor=principal_of(bp.current_request), buyer_id=buyer_id)
    return no_content()
