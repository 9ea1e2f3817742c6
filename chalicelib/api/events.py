"""Events: /events and /events/{id}."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint, Param
from chalicelib.api.requests import bool_param, id_param, page_params, parse_body, time_param
from chalicelib.api.responses import model_response, no_content, page_response
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.money import from_minor
from chalicelib.services.sales import events, onsale_queue
from chalicelib.services.sales.events import EventWithCounts

bp = ApiBlueprint(__name__)
TAG = "events"
TIME = {"type": "string", "format": "date-time"}


def event_out(item: EventWithCounts) -> schemas.responses.EventOut:
    event, counts = item.event, item.counts
    return schemas.responses.EventOut(
        id=event.id,
        title=event.title,
        time=event.time,
        price=from_minor(event.price_minor, event.currency_code),
        currency_code=event.currency_code,
        number_of_tickets=event.number_of_tickets,
        organizer_id=event.organizer_id,
        cancellable_until=event.cancellable_until,
        payment=event.payment,
        hold_minutes=event.hold_minutes,
        waiting_list_hours=event.waiting_list_hours,
        queue=schemas.responses.QueueOut(
            opens_at=event.queue_opens_at, admit_per_second=int(event.queue_admit_per_second)
        )
        if onsale_queue.has_queue(event)
        else None,
        stock_shards=int(event.stock_shards or 1),
        stock_lane_open=bool(event.stock_lane_open),
        created_at=event.created_at,
        updated_at=event.updated_at,
        allocated=counts.allocated,
        sold=counts.sold,
        held=counts.held,
        available=counts.available,
    )


@bp.route(
    "/events",
    methods=["GET"],
    summary="List events in time order",
    description="Each event with its inventory counts. A page may hold fewer than `limit` "
    "events (it stops where its ticket pools would need a second read); follow `next_token` "
    "until it is absent.",
    tag=TAG,
    query=(
        Param("organizer_id", "Only this organizer's events."),
        Param("from", "Only events at or after this time (ISO 8601).", TIME),
        Param("to", "Only events at or before this time (ISO 8601).", TIME),
        *PAGE_PARAMS,
    ),
    responses={200: "responses.EventPage"},
)
def list_events() -> Response:
    request = bp.current_request
    limit, next_token = page_params(request)
    page = events.list_events(
        organizer_id=id_param(request, "organizer_id"),
        start=time_param(request, "from"),
        end=time_param(request, "to"),
        limit=limit,
        next_token=next_token,
    )
    return page_response(schemas.responses.EventPage, "events", page, event_out)


@bp.route(
    "/events/{event_id}",
    methods=["GET"],
    summary="One event with its inventory counts",
    tag=TAG,
    responses={200: "responses.EventEnvelope"},
)
def get_event(event_id: str) -> Response:
    return model_response(
        schemas.responses.EventEnvelope(
            event=event_out(events.with_counts(events.get_event(event_id)))
        )
    )


@bp.route(
    "/events",
    methods=["POST"],
    authorizer=bearer_auth,
    summary="Create an event (organizer; admin with organizer_id)",
    description='The event starts with one ticket type, "General admission", at `price` '
    "(add more under /events/{id}/ticket-types); `number_of_tickets` is the capacity all its "
    "types share.",
    tag=TAG,
    body="events.CreateEventBody",
    responses={201: "responses.EventEnvelope"},
)
def create_event() -> Response:
    body = parse_body(bp.current_request, schemas.events.CreateEventBody)
    created = events.create_event(actor=principal_of(bp.current_request), **body.model_dump())
    return model_response(schemas.responses.EventEnvelope(event=event_out(created)), status=201)


@bp.route(
    "/events/{event_id}",
    methods=["PUT"],
    authorizer=bearer_auth,
    summary="Change an event (its organizer, admin)",
    description="`number_of_tickets` cannot go below allocated + sold + held by the organizer "
    "(409). `price` sets the price of the event's only ticket type (409 "
    "`price_per_ticket_type` when it has several); a new `currency_code` keeps each type's "
    "price figure.",
    tag=TAG,
    body="events.UpdateEventBody",
    responses={200: "responses.EventEnvelope", 409: None},
)
def update_event(event_id: str) -> Response:
    body = parse_body(bp.current_request, schemas.events.UpdateEventBody)
    updated = events.update_event(
        actor=principal_of(bp.current_request),
        event_id=event_id,
        **body.changes(),
    )
    return model_response(schemas.responses.EventEnvelope(event=event_out(updated)))


@bp.route(
    "/events/{event_id}",
    methods=["DELETE"],
    authorizer=bearer_auth,
    summary="Delete an event and its allocations (its organizer, admin)",
    description="With tickets sold: 409, unless an admin passes `force=true`, which also "
    "deletes the sold tickets.",
    tag=TAG,
    query=(Param("force", "Admins only: delete sold tickets too.", {"enum": ["true", "false"]}),),
    responses={204: None, 409: None},
)
def delete_event(event_id: str) -> Response:
    request = bp.current_request
    events.delete_event(
        actor=principal_of(request), event_id=event_id, force=bool(bool_param(request, "force"))
    )
    return no_content()
