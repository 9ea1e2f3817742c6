"""GET /health: can the app reach its tables?"""

from __future__ import annotations

from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.api.responses import json_response
from chalicelib.services import health

bp = ApiBlueprint(__name__)


@bp.route("/health", methods=["GET"])
def get_health():
    health.ensure_tables_reachable()
    return json_response({"status": "ok"})
