"""Tickets at the door: the keys that verify tickets' QR codes."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.api.responses import model_response
from chalicelib.auth import ticket_keys

bp = ApiBlueprint(__name__)
TAG = "check-in"


@bp.route(
    "/ticket-keys",
    methods=["GET"],
    summary="The public keys that verify tickets' `qr` (JWKS)",
    description="A scanner keeps these to check tickets offline: each ticket's `qr` is a JWS "
    "whose header `kid` names one of them. Keys stay listed after a rotation.",
    tag=TAG,
    responses={200: "responses.TicketKeysOut"},
)
def get_ticket_keys() -> Response:
    response = model_response(schemas.responses.TicketKeysOut(keys=ticket_keys.published_keys()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
