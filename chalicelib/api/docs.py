"""Interactive docs: Swagger UI at `/`, its assets, and the OpenAPI document.

The Swagger UI files come from a packaged distribution (flask-swagger-ui's `dist/`) and are
served by the app itself: no CDN, so the docs work offline and inside a locked-down VPC.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from functools import cache
from pathlib import Path

from chalice import Response

from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.errors import NotFound

bp = ApiBlueprint(__name__)
TAG = "docs"

ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "application/javascript; charset=utf-8",
}

# Relative URLs: behind API Gateway the page lives under the stage path (/api/).
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Events API</title>
<link rel="stylesheet" href="swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="swagger-ui/swagger-ui-bundle.js"></script>
<script src="swagger-ui/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout"
});
</script>
</body>
</html>
"""

_document_lock = threading.Lock()
_document: str | None = None


def _dist() -> Path:
    # Located without importing the package, which would import Flask for nothing.
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise NotFound("The Swagger UI distribution is not installed.")
    return Path(next(iter(spec.submodule_search_locations))) / "dist"


@cache
def _asset(name: str) -> str:
    return (_dist() / name).read_text(encoding="utf-8")


def openapi_document() -> str:
    """The document as JSON text, built once per process from the app's routes."""
    global _document
    from chalicelib.api.openapi import build_openapi  # every model: not at a cold start

    with _document_lock:
        if _document is None:
            _document = json.dumps(build_openapi(bp.current_app))
        return _document


@bp.route("/", methods=["GET"], summary="Interactive API docs (Swagger UI)", tag=TAG,
          responses={200: "text/html"})  # fmt: skip
def swagger_ui() -> Response:
    return Response(
        body=PAGE, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"}
    )


@bp.route("/openapi.json", methods=["GET"], summary="This API's OpenAPI 3.1 document",
          tag=TAG, responses={200: "application/json"})  # fmt: skip
def openapi_json() -> Response:
    return Response(
        body=openapi_document(), status_code=200, headers={"Content-Type": "application/json"}
    )


@bp.route("/swagger-ui/{asset}", methods=["GET"], summary="Swagger UI's own files", tag=TAG,
          responses={200: "text/plain"})  # fmt: skip
def swagger_asset(asset: str) -> Response:
    if asset not in ASSETS:
        raise NotFound()
    return Response(
        body=_asset(asset),
        status_code=200,
        headers={"Content-Type": ASSETS[asset], "Cache-Control": "public, max-age=86400"},
    )
