"""GET /health: can the app reach its tables?"""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.api.responses import model_response
from chalicelib.services.operations import health

bp = ApiBlueprint(__name__)


@bp.route(
    "/health",
    methods=["GET"],
    summary="Health: 200 when every table answers",
    tag="health",
    responses={200: "responses.HealthOut", 503: "responses.ErrorOut"},
)
def get_health() -> Response:
    health.ensure_tables_reachable()
    return model_response(schemas.responses.HealthOut(status="ok"))


@bp.route(
    "/health",
    methods=["HEAD"],
    summary="Health for uptime checkers: the same check, no body",
    tag="health",
    responses={200: None, 503: None},
)
def head_health() -> Response:
    health.ensure_tables_reachable()
    return Response(body="", status_code=200)
