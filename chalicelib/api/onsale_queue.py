"""The on-sale queue: /events/{id}/queue and /queue/{queue_token}."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.api.requests import source_ip
from chalicelib.api.responses import model_response
from chalicelib.services.operations import limits
from chalicelib.services.sales import onsale_queue

bp = ApiBlueprint(__name__)
TAG = "on-sale queue"


@bp.route(
    "/events/{event_id}/queue",
    methods=["POST"],
    summary="Take a place in an event's on-sale queue (anyone)",
    description="For an event with a `queue` (else 409 `no_queue`). The answer's "
    "`queue_token` is the place: keep it and poll GET /queue/{queue_token}. Places taken "
    "before `opens_at` have no `position` until then: they are shuffled into a random order "
    "when the queue opens, so arriving early gains nothing over arriving on time; later places "
    "go to the back in the order they came. Positions come from 16 counters per event, not "
    "one, so the queue takes thousands of arrivals a second.",
    tag=TAG,
    responses={201: "responses.QueuePlaceOut", 404: None, 409: None},
    limited=True,
)
def join_queue(event_id: str) -> Response:
    limits.enforce(queue_ip=source_ip(bp.current_request))
    joined = onsale_queue.join(event_id)
    out = schemas.responses.QueuePlaceOut(queue_token=joined.token, position=joined.position)
    return model_response(out, status=201)


@bp.route(
    "/queue/{queue_token}",
    methods=["GET"],
    summary="Where a place in an on-sale queue stands, and its admission once admitted",
    description="Positions are admitted in order, `admit_per_second` of them each second from "
    "`opens_at`. Once admitted, `admission` is the X-Admission an order of this event needs "
    "(valid 10 minutes, for one order; asking again gives a fresh one for the same place). "
    "A token that is not a place: 400 `invalid_queue_token`.",
    tag=TAG,
    responses={200: "responses.QueueStatusOut", 404: None, 409: None},
)
def queue_status(queue_token: str) -> Response:
    found = onsale_queue.status(queue_token)
    return model_response(
        schemas.responses.QueueStatusOut(
            position=found.position,
            admitted=found.admitted,
            admission=found.admission,
            estimated_wait_s=found.estimated_wait_s,
        )
    )
