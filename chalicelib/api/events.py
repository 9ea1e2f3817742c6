"""Events: /events and /events/{id}."""

from __future__ import annotations

from typing import Any

from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.api.requests import bool_param, page_params, parse_body, query_params, time_param
from chalicelib.api.responses import json_response, no_content, page_response
from chalicelib.api.schemas.events import CreateEventBody, UpdateEventBody
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.money import from_minor
from chalicelib.services import events
from chalicelib.services.events import EventWithCounts

bp = ApiBlueprint(__name__)


def event_json(item: EventWithCounts) -> dict[str, Any]:
    event, counts = item.event, item.counts
    return {
        "id": event.id,
        "title": event.title,
        "time": event.time.isoformat(),
        "price": from_minor(event.price_minor, event.currency_code),
        "currency_code": event.currency_code,
        "number_of_tickets": event.number_of_tickets,
        "organizer_id": event.organizer_id,
        "created_at": event.created_at.isoformat(),
        "updated_at": event.updated_at.isoformat(),
        "allocated": counts.allocated,
        "sold": counts.sold,
        "available": counts.available,
    }


@bp.route("/events", methods=["GET"])
def list_events():
    request = bp.current_request
    limit, next_token = page_params(request)
    page = events.list_events(
        organizer_id=query_params(request).get("organizer_id") or None,
        start=time_param(request, "from"),
        end=time_param(request, "to"),
        limit=limit,
        next_token=next_token,
    )
    return page_response("events", page, event_json)


@bp.route("/events/{event_id}", methods=["GET"])
def get_event(event_id: str):
    return json_response({"event": event_json(events.with_counts(events.get_event(event_id)))})


@bp.route("/events", methods=["POST"], authorizer=bearer_auth)
def create_event():
    body = parse_body(bp.current_request, CreateEventBody)
    created = events.create_event(actor=principal_of(bp.current_request), **body.model_dump())
    return json_response({"event": event_json(created)}, status=201)


@bp.route("/events/{event_id}", methods=["PUT"], authorizer=bearer_auth)
def update_event(event_id: str):
    body = parse_body(bp.current_request, UpdateEventBody)
    updated = events.update_event(
        actor=principal_of(bp.current_request),
        event_id=event_id,
        **body.model_dump(exclude_none=True),
    )
    return json_response({"event": event_json(updated)})


@bp.route("/events/{event_id}", methods=["DELETE"], authorizer=bearer_auth)
def delete_event(event_id: str):
    request = bp.current_request
    events.delete_event(
        actor=principal_of(request),
        event_id=event_id,
        force=bool(bool_param(request, "force")),
    )
    return no_content()
