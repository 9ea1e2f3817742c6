"""Buyers: /buyers and /buyers/{id} (admins only)."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint
from chalicelib.api.requests import page_params, parse_body
from chalicelib.api.responses import model_response, no_content, page_response
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.db.buyers import Buyer
from chalicelib.services.sales import buyers

bp = ApiBlueprint(__name__)
TAG = "buyers"


def buyer_out(buyer: Buyer) -> schemas.responses.BuyerOut:
    return schemas.responses.BuyerOut(
        id=buyer.id,
        name=buyer.name,
        email=buyer.email,
        phone=buyer.phone,
        created_at=buyer.created_at,
        updated_at=buyer.updated_at,
    )


@bp.route("/buyers", methods=["GET"], authorizer=bearer_auth, summary="List buyers (admin)",
          tag=TAG, query=PAGE_PARAMS, responses={200: "responses.BuyerPage"})  # fmt: skip
def list_buyers() -> Response:
    limit, next_token = page_params(bp.current_request)
    page = buyers.list_buyers(
        actor=principal_of(bp.current_request), limit=limit, next_token=next_token
    )
    return page_response(schemas.responses.BuyerPage, "buyers", page, buyer_out)


@bp.route("/buyers/{buyer_id}", methods=["GET"], authorizer=bearer_auth,
          summary="One buyer with the ids of their tickets (admin)", tag=TAG,
          responses={200: "responses.BuyerDetailEnvelope"})  # fmt: skip
def get_buyer(buyer_id: str) -> Response:
    buyer, ticket_ids = buyers.get_buyer(actor=principal_of(bp.current_request), buyer_id=buyer_id)
    detail = schemas.responses.BuyerWithTicketsOut(
        **buyer_out(buyer).model_dump(), tickets=ticket_ids
    )
    return model_response(schemas.responses.BuyerDetailEnvelope(buyer=detail))


@bp.route("/buyers/{buyer_id}", methods=["PUT"], authorizer=bearer_auth,
          summary="Correct a buyer's name, email or phone (admin)", tag=TAG,
          body="bookings.UpdateBuyerBody",
          responses={200: "responses.BuyerEnvelope", 409: None})  # fmt: skip
def update_buyer(buyer_id: str) -> Response:
    body = parse_body(bp.current_request, schemas.bookings.UpdateBuyerBody)
    buyer = buyers.update_buyer(
        actor=principal_of(bp.current_request), buyer_id=buyer_id, **body.model_dump()
    )
    return model_response(schemas.responses.BuyerEnvelope(buyer=buyer_out(buyer)))


@bp.route("/buyers/{buyer_id}", methods=["DELETE"], authorizer=bearer_auth,
          summary="Delete a buyer without tickets (admin)",
          description="A buyer holding tickets: 409 \"Cannot delete buyer when associated "
          "with ticket.\"", tag=TAG, responses={204: None, 409: None})  # fmt: skip
def delete_buyer(buyer_id: str) -> Response:
    buyers.delete_buyer(actor=principal_of(bp.current_request), buyer_id=buyer_id)
    return no_content()
