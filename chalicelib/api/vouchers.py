"""Vouchers (promo codes): /events/{id}/vouchers."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint
from chalicelib.api.requests import page_params, parse_body
from chalicelib.api.responses import model_response, no_content, page_response
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.db.vouchers import Voucher
from chalicelib.services.sales import vouchers

bp = ApiBlueprint(__name__)
TAG = "vouchers"


def voucher_out(voucher: Voucher, currency_code: str) -> schemas.responses.VoucherOut:
    return schemas.responses.VoucherOut(
        id=voucher.id,
        code=voucher.code,
        discount=schemas.responses.DiscountOut(
            type=voucher.discount_type, value=vouchers.discount_value(voucher, currency_code)
        ),
        max_uses=voucher.max_uses,
        uses=voucher.uses,
        valid_until=voucher.valid_until,
        ticket_type_ids=sorted(voucher.ticket_type_ids) if voucher.ticket_type_ids else None,
        created_at=voucher.created_at,
        updated_at=voucher.updated_at,
    )


def _envelope(view: vouchers.VoucherView, status: int = 200) -> Response:
    out = voucher_out(view.voucher, view.currency_code)
    return model_response(schemas.responses.VoucherEnvelope(voucher=out), status=status)


@bp.route(
    "/events/{event_id}/vouchers",
    methods=["POST"],
    authorizer=bearer_auth,
    summary="Create a voucher (the event's organizer, admin)",
    description="Codes are unique per event, case-insensitive (409 `duplicate_voucher`). "
    "`percent` takes that share off each matching ticket, rounded half-up to the currency's "
    "minor unit; `amount` takes that much off each; `price` sells each at that price; a ticket "
    "never costs below 0 or above its own price. One order is one use.",
    tag=TAG,
    body="vouchers.CreateVoucherBody",
    responses={201: "responses.VoucherEnvelope", 409: None},
)
def create_voucher(event_id: str) -> Response:
    request = bp.current_request
    body = parse_body(request, schemas.vouchers.CreateVoucherBody)
    view = vouchers.create_voucher(
        actor=principal_of(request), event_id=event_id, code=body.code,
        discount_type=body.discount.type, value=body.discount.value, max_uses=body.max_uses,
        valid_until=body.valid_until, ticket_type_ids=body.ticket_type_ids,
    )  # fmt: skip
    return _envelope(view, status=201)


@bp.route(
    "/events/{event_id}/vouchers",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="The event's vouchers with their uses (the event's organizer, admin)",
    description="`uses` counts the orders paid with each voucher or holding it.",
    tag=TAG,
    query=PAGE_PARAMS,
    responses={200: "responses.VoucherPage"},
)
def list_vouchers(event_id: str) -> Response:
    request = bp.current_request
    limit, next_token = page_params(request)
    page, currency = vouchers.list_vouchers(
        actor=principal_of(request), event_id=event_id, limit=limit, next_token=next_token
    )
    return page_response(
        schemas.responses.VoucherPage, "vouchers", page, lambda v: voucher_out(v, currency)
    )


@bp.route(
    "/events/{event_id}/vouchers/{voucher_id}",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="One voucher (the event's organizer, admin)",
    tag=TAG,
    responses={200: "responses.VoucherEnvelope"},
)
def get_voucher(event_id: str, voucher_id: str) -> Response:
    view = vouchers.get_voucher(
        actor=principal_of(bp.current_request), event_id=event_id, voucher_id_=voucher_id
    )
    return _envelope(view)


@bp.route(
    "/events/{event_id}/vouchers/{voucher_id}",
    methods=["PUT"],
    authorizer=bearer_auth,
    summary="Change a voucher (the event's organizer, admin)",
    description="Any subset of discount, max_uses, valid_until, ticket_type_ids (null clears "
    "the last three); applies to later orders. The code is the voucher's identity and cannot "
    "change. `max_uses` below its uses: 409 `below_uses`.",
    tag=TAG,
    body="vouchers.UpdateVoucherBody",
    responses={200: "responses.VoucherEnvelope", 409: None},
)
def update_voucher(event_id: str, voucher_id: str) -> Response:
    request = bp.current_request
    body = parse_body(request, schemas.vouchers.UpdateVoucherBody)
    view = vouchers.update_voucher(
        actor=principal_of(request), event_id=event_id, voucher_id_=voucher_id, **body.changes()
    )
    return _envelope(view)


@bp.route(
    "/events/{event_id}/vouchers/{voucher_id}",
    methods=["DELETE"],
    authorizer=bearer_auth,
    summary="Delete a voucher (the event's organizer, admin)",
    description="Only while no order holds it or paid with it (409 `voucher_in_use`; set "
    "`max_uses` or `valid_until` to stop it instead).",
    tag=TAG,
    responses={204: None, 409: None},
)
def delete_voucher(event_id: str, voucher_id: str) -> Response:
    vouchers.delete_voucher(
        actor=principal_of(bp.current_request), event_id=event_id, voucher_id_=voucher_id
    )
    return no_content()
