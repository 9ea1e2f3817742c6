"""Buyers' own access: the emailed link, the buyer session, and the /my-* routes."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.accounts import token_out
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint
from chalicelib.api.pages import HTML, access_page, error_page, html_page, tickets_page
from chalicelib.api.requests import FORM, is_form, page_params, parse_body, source_ip
from chalicelib.api.responses import model_response, no_content, page_response
from chalicelib.api.tickets import holder_out, ticket_status
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import BUYER, Principal, principal_of
from chalicelib.db.ticket_types import DEFAULT_NAME
from chalicelib.email.addresses import normalize_email
from chalicelib.errors import AppError
from chalicelib.money import from_minor
from chalicelib.qr_codes import qr_svg
from chalicelib.services.accounts import buyer_access
from chalicelib.services.accounts.buyer_access import MyTicket
from chalicelib.services.operations import limits
from chalicelib.services.sales import tickets
from chalicelib.settings import get_settings

bp = ApiBlueprint(__name__)
TAG = "my tickets"
PAGE_SIZE = 100


def my_ticket_out(item: MyTicket) -> schemas.responses.MyTicketOut:
    ticket, event = item.ticket, item.event
    return schemas.responses.MyTicketOut(
        id=ticket.id,
        event=schemas.responses.MyEventOut(
            id=event.id, title=event.title, time=event.time,
            cancellable_until=event.cancellable_until,
        )
        if event
        else None,
        code=ticket.code,
        qr=tickets.qr_of(ticket),
        holder=holder_out(ticket),
        order_id=ticket.order_id,
        ticket_type_id=ticket.ticket_type_id or ticket.event_id,
        ticket_type_name=ticket.ticket_type_name or DEFAULT_NAME,
        price=from_minor(ticket.price_minor, ticket.currency_code),
        currency_code=ticket.currency_code,
        created_at=ticket.created_at,
        status=ticket_status(ticket),
        checked_in_at=ticket.checked_in_at,
        cancelled_at=ticket.cancelled_at,
        cancellable=buyer_access.is_cancellable(ticket, event),
    )  # fmt: skip


@bp.route(
    "/buyer-access",
    methods=["POST"],
    summary="Email a buyer a link to their tickets (always 202)",
    description="A buyer holding tickets gets a single-use link `{APP_URL}/my-tickets/{token}`, "
    "valid for 15 minutes. The answer is the same whatever the email.",
    tag=TAG,
    body="my_tickets.BuyerAccessBody",
    responses={202: "responses.MessageOut"},
    limited=True,
)
def request_access() -> Response:
    request = bp.current_request
    body = parse_body(request, schemas.my_tickets.BuyerAccessBody)
    limits.enforce(email_ip=source_ip(request), link_email=normalize_email(body.email))
    buyer_access.request_access(email=body.email)
    message = "If that email holds tickets, a link to them is on its way."
    return model_response(schemas.responses.MessageOut(message=message), status=202)


@bp.route(
    "/my-tickets/{key}",
    methods=["GET"],
    summary="The emailed link (`key`: its token): a page with a button that opens the tickets",
    description="Opening the page uses nothing up; its button posts to POST /buyer-sessions, "
    "which answers the form with a page of the buyer's tickets and their QR codes.",
    tag=TAG,
    responses={200: HTML, 400: HTML},
    limited=True,
)
def access_link_page(key: str) -> Response:
    # It checks a secret, like a sign-in: guesses count against the address's limit.
    limits.enforce(auth_ip=source_ip(bp.current_request))
    try:
        buyer_access.check_access_link(token=key)
    except buyer_access.InvalidAccessLink as error:
        return html_page(title="Link not valid", message=error.message, status=400)
    return access_page(token=key, action=f"{get_settings().app_url}/buyer-sessions")


@bp.route(
    "/buyer-sessions",
    methods=["POST"],
    summary="Exchange the emailed link's token for a buyer token (1 hour)",
    description="The token works once: a second exchange, or one after 15 minutes, is a 400 "
    "`invalid_access_link`. The buyer token reaches only the /my-* routes. The link page's "
    "form posts here too and gets a page of the tickets back.",
    tag=TAG,
    body="my_tickets.BuyerSessionBody",
    responses={200: "responses.TokenOut"},
    limited=True,
    content_types=["application/json", FORM],
)
def start_session() -> Response:
    request = bp.current_request
    try:
        body = parse_body(request, schemas.my_tickets.BuyerSessionBody)
        limits.enforce(auth_ip=source_ip(request))
        session = buyer_access.start_session(token=body.token)
        if not is_form(request):
            return model_response(token_out(session.token))
        return _tickets_page(Principal(user_id=session.buyer_id, role=BUYER))
    except AppError as error:
        if not is_form(request):
            raise
        return error_page(title="Tickets not shown", error=error)


def _tickets_page(buyer: Principal) -> Response:
    page = buyer_access.my_tickets(actor=buyer, limit=PAGE_SIZE, next_token=None)
    shown = [
        (
            item.event.title if item.event else "(event deleted)",
            item.event.time.strftime("%Y-%m-%d %H:%M UTC") if item.event else "",
            item.ticket.code,
            ticket_status(item.ticket).replace("_", " "),
            qr_svg(tickets.qr_of(item.ticket)) if not item.ticket.is_cancelled else "",
        )
        for item in page.items
    ]
    return tickets_page(shown)


@bp.route(
    "/my-tickets",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="My tickets, with their events, codes and QR (buyer token)",
    tag=TAG,
    query=PAGE_PARAMS,
    responses={200: "responses.MyTicketPage"},
)
def list_my_tickets() -> Response:
    limit, next_token = page_params(bp.current_request)
    page = buyer_access.my_tickets(
        actor=principal_of(bp.current_request), limit=limit, next_token=next_token
    )
    return page_response(schemas.responses.MyTicketPage, "tickets", page, my_ticket_out)


@bp.route(
    "/my-tickets/resend",
    methods=["POST"],
    authorizer=bearer_auth,
    summary="Email me all my upcoming tickets again (buyer token; 3 an hour)",
    description="None upcoming: 409 `no_upcoming_tickets`.",
    tag=TAG,
    responses={202: "responses.MessageOut", 409: None},
    limited=True,
)
def resend_my_tickets() -> Response:
    actor = principal_of(bp.current_request)
    limits.enforce(tickets_resend=actor.user_id)
    count = buyer_access.resend(actor=actor)
    plural = "s" if count != 1 else ""
    message = f"Your {count} upcoming ticket{plural} are on their way."
    return model_response(schemas.responses.MessageOut(message=message), status=202)


@bp.route(
    "/my-tickets/{key}",
    methods=["DELETE"],
    authorizer=bearer_auth,
    summary="Cancel one of my tickets (`key`: its id; buyer token)",
    description="Only while the event's `cancellable_until` is in the future and the ticket is "
    "not checked in; otherwise 409 `not_cancellable`. The seat returns to its seller in the "
    "same transaction, and a cancellation email follows.",
    tag=TAG,
    responses={204: None, 409: None},
)
def cancel_my_ticket(key: str) -> Response:
    buyer_access.cancel(actor=principal_of(bp.current_request), ticket_id=key)
    return no_content()


@bp.route(
    "/my-data",
    methods=["DELETE"],
    authorizer=bearer_auth,
    summary="Erase my personal data (buyer token)",
    description="Refused with 409 `has_upcoming_tickets` while I hold tickets for events still "
    "to come. Otherwise my buyer record goes (and with it this session), and my past tickets "
    "keep no name or phone.",
    tag=TAG,
    responses={204: None, 409: None},
)
def erase_my_data() -> Response:
    buyer_access.erase_my_data(actor=principal_of(bp.current_request))
    return no_content()
