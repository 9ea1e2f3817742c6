"""The waiting list: /events/{id}/waiting-list and /waiting-list/{entry_id}."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint
from chalicelib.api.requests import page_params, parse_body, source_ip
from chalicelib.api.responses import model_response, no_content, page_response
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.db.waiting_list import WaitingEntry
from chalicelib.email.addresses import normalize_email
from chalicelib.services.operations import limits
from chalicelib.services.sales import waiting_list
from chalicelib.services.sales.buyers import BuyerDetails

bp = ApiBlueprint(__name__)
TAG = "waiting list"


def entry_out(entry: WaitingEntry) -> schemas.responses.WaitingEntryOut:
    return schemas.responses.WaitingEntryOut(
        id=entry.id,
        ticket_type_id=entry.ticket_type_id,
        quantity=int(entry.quantity),
        buyer=schemas.responses.WaitingBuyerOut(
            name=entry.name, email=entry.email, phone=entry.phone
        ),
        status=entry.status,
        created_at=entry.created_at,
        order_id=entry.order_id,
    )


@bp.route(
    "/events/{event_id}/waiting-list",
    methods=["POST"],
    summary="Join a ticket type's waiting list (anyone; always 202 once accepted)",
    description="For a type whose tickets cannot be ordered now (else 409 `tickets_available`), "
    "of an event paid online (else 409 `waiting_list_online_only`). One entry per email and "
    "type: joining again answers the same 202 and changes nothing, so the answer never tells "
    "who is waiting. An email confirms the place with a link that leaves the list. While anyone "
    "waits for a type, its tickets go to the list first: returned stock is held for the first "
    "entry it covers, in order, as a reserved order (an offer, `waiting_list_hours`), and its "
    "buyer is emailed the order's checkout link; stock that does not cover the next entry's "
    "quantity waits for more, and nobody jumps the queue.",
    tag=TAG,
    body="waiting_list.JoinWaitingListBody",
    responses={202: "responses.MessageOut", 409: None},
    limited=True,
)
def join_waiting_list(event_id: str) -> Response:
    request = bp.current_request
    body = parse_body(request, schemas.waiting_list.JoinWaitingListBody)
    limits.enforce(email_ip=source_ip(request), link_email=normalize_email(body.buyer.email))
    waiting_list.join(
        event_id=event_id, ticket_type_id=body.ticket_type_id, quantity=body.quantity,
        buyer=BuyerDetails(**body.buyer.model_dump()),
    )  # fmt: skip
    message = "You are on the waiting list; an email confirms it."
    return model_response(schemas.responses.MessageOut(message=message), status=202)


@bp.route(
    "/events/{event_id}/waiting-list",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="The event's waiting list in queue order (its organizer, admin)",
    tag=TAG,
    query=PAGE_PARAMS,
    responses={200: "responses.WaitingListPage"},
)
def list_waiting_list(event_id: str) -> Response:
    request = bp.current_request
    limit, next_token = page_params(request)
    page = waiting_list.list_entries(
        actor=principal_of(request), event_id=event_id, limit=limit, next_token=next_token
    )
    return page_response(schemas.responses.WaitingListPage, "entries", page, entry_out)


@bp.route(
    "/waiting-list/{entry_id}",
    methods=["DELETE"],
    authorizer=bearer_auth,
    summary="Leave the waiting list (the entry's emailed token, the event's organizer, admin)",
    description="An offer not yet paid is declined with it and its tickets pass to the next "
    "entry. Leaving twice, or after paying, changes nothing (204).",
    tag=TAG,
    responses={204: None},
)
def leave_waiting_list(entry_id: str) -> Response:
    waiting_list.leave(actor=principal_of(bp.current_request), entry_id_=entry_id)
    return no_content()
