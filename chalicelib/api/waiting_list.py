"""The waiting list: /events/{id}/waiting-list and /waiting-list/{entry_id}."""

from __future__ import annotations

from html import escape

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint, Param
from chalicelib.api.pages import HTML, error_page, html_page
from chalicelib.api.requests import FORM, is_form, page_params, parse_body, source_ip
from chalicelib.api.responses import model_response, no_content, page_response
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.db.waiting_list import WaitingEntry
from chalicelib.email.addresses import normalize_email
from chalicelib.errors import AppError
from chalicelib.services.operations import limits
from chalicelib.services.sales import waiting_list
from chalicelib.services.sales.buyers import BuyerDetails
from chalicelib.settings import get_settings

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
        priority=int(entry.priority or 0),
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


@bp.route(
    "/waiting-list/{entry_id}",
    methods=["PUT"],
    authorizer=bearer_auth,
    summary="Set a waiting entry's priority (the event's organizer, admin)",
    description="Higher priority goes first; entries of one priority keep the order they "
    "joined in. Only while the entry waits (else 409 `entry_not_waiting`). Stock waiting for "
    "more than the old head of the queue asked for is offered to the new head if it fits.",
    tag=TAG,
    body="waiting_list.PrioritiseBody",
    responses={200: "responses.WaitingEntryEnvelope", 409: None},
)
def prioritise_entry(entry_id: str) -> Response:
    request = bp.current_request
    body = parse_body(request, schemas.waiting_list.PrioritiseBody)
    entry = waiting_list.prioritise(
        actor=principal_of(request), entry_id_=entry_id, priority=body.priority
    )
    return model_response(schemas.responses.WaitingEntryEnvelope(entry=entry_out(entry)))


_LEAVE_FORM = """<form method="post" action="{action}">
<input type="hidden" name="token" value="{token}">
<button type="submit">Leave the waiting list</button>
</form>"""
LEFT = "You have left the waiting list. Tickets held for you, if any, go to the next person."


@bp.route(
    "/waiting-list/{entry_id}",
    methods=["GET"],
    summary="The emailed link: a page with a button that leaves the waiting list",
    description="Opening the page changes nothing (mail scanners fetch links); its button posts "
    "to POST /waiting-list/{entry_id}/leave.",
    tag=TAG,
    query=(Param("token", "The token of the emailed link."),),
    responses={200: HTML, 400: HTML},
    limited=True,
)
def leave_page(entry_id: str) -> Response:
    request = bp.current_request
    token = (request.query_params or {}).get("token") or ""
    try:
        # It checks a secret, like a sign-in: guesses count against the address's limit.
        limits.enforce(auth_ip=source_ip(request))
        waiting_list.link_holder(entry_id, token)
    except AppError as error:
        return error_page(title="Link not valid", error=error)
    action = f"{get_settings().app_url}/waiting-list/{entry_id}/leave"
    return html_page(
        title="Your place on the waiting list",
        message="If you no longer want these tickets, leave the list: the next person moves up.",
        extra=_LEAVE_FORM.format(action=escape(action), token=escape(token)),
    )


@bp.route(
    "/waiting-list/{entry_id}/leave",
    methods=["POST"],
    summary="Leave the waiting list with the emailed link's token (the page's form posts here)",
    description="The same as DELETE /waiting-list/{entry_id} with the entry's token; a form "
    "gets a page back. A token for another entry, forged or expired: 400 `invalid_link`.",
    tag=TAG,
    body="waiting_list.LeaveWaitingListBody",
    responses={200: "responses.MessageOut"},
    content_types=["application/json", FORM],
    limited=True,
)
def leave_by_link(entry_id: str) -> Response:
    request = bp.current_request
    try:
        body = parse_body(request, schemas.waiting_list.LeaveWaitingListBody)
        limits.enforce(auth_ip=source_ip(request))
        waiting_list.leave(actor=waiting_list.link_holder(entry_id, body.token),
                           entry_id_=entry_id)  # fmt: skip
    except AppError as error:
        if not is_form(request):
            raise
        return error_page(title="Not left", error=error)
    if is_form(request):
        return html_page(title="You left the waiting list", message=LEFT)
    return model_response(schemas.responses.MessageOut(message=LEFT))
