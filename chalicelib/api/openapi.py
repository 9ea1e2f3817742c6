"""The OpenAPI 3.1 document, built from the app's route table, the documentation each route
carries, and the pydantic models the views validate and answer with: it cannot drift.

Built on the first GET /openapi.json, so only that request loads every model.
"""

from __future__ import annotations

import re
from typing import Any

from chalice import Chalice
from pydantic.json_schema import models_json_schema

from chalicelib.api import schemas
from chalicelib.api.blueprint import BEARER, OPTIONAL_BEARER, ROUTE_DOCS, RouteDoc, is_media_type
from chalicelib.api.pages import HTML
from chalicelib.api.requests import FORM, MAX_PATH_PARAM
from chalicelib.settings import get_settings

REF = "#/components/schemas/{model}"
ERROR_MODEL = "responses.ErrorOut"
ERROR_REF = {"$ref": REF.format(model="ErrorOut")}

# The sentence each error status stands for, used when a route declares the status itself.
ERROR_MEANINGS = {
    400: "Invalid input; `details` names each field or parameter and what is wrong.",
    401: "Missing bearer token (or, on open routes, an invalid one); or wrong credentials.",
    403: "Authenticated but not allowed; or the token is invalid, expired or revoked.",
    404: "Unknown resource.",
    409: "Conflicts with the current state (duplicate, sold out, inventory rule).",
    413: "Request body over 64 KiB.",
    415: "Content-Type is not application/json.",
    422: "Idempotency-Key reused with a different request.",
    429: "Over an abuse limit (`rate_limited`) or too many checks of one account running "
    "(`too_many_attempts`); the `Retry-After` header says how many seconds to wait.",
    502: "The sign-in provider failed or could not be reached.",
    503: "Storage busy (throttled or contended past our retries: `storage_busy`) or the sign-in "
    "provider configuration unavailable; nothing was changed. `Retry-After` says how many "
    "seconds to wait.",
}
RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 1},
}
TAG_ORDER = (
    "accounts", "social sign-in", "events", "ticket types", "allocations", "orders", "vouchers",
    "waiting list", "on-sale queue", "payments", "bookings", "check-in", "my tickets", "reports",
    "buyers", "users", "webhooks", "audit log", "health", "docs",
)  # fmt: skip
SUCCESS_MEANINGS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No content",
                    303: "See other"}  # fmt: skip


def _path_params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def _errors_for(path: str, method: str, doc: RouteDoc) -> set[int]:
    """The error statuses every route of this shape can answer, besides its own."""
    statuses = {503}
    if doc.body is not None:
        statuses |= {400, 413, 415}
    if doc.query or doc.headers:
        statuses.add(400)
    if doc.auth == BEARER:
        statuses |= {401, 403}
    if doc.auth == OPTIONAL_BEARER:
        statuses.add(401)
    if _path_params(path):
        statuses |= {400, 404}
    if doc.limited:
        statuses.add(429)
    return statuses


def _response(status: int, spec: str | None, refs: dict) -> dict[str, Any]:
    if spec is not None and is_media_type(spec):  # a page for people (or a file), any status
        description = SUCCESS_MEANINGS.get(status) or ERROR_MEANINGS.get(status, "Error.")
        return {"description": description, "content": {spec: {"schema": {"type": "string"}}}}
    if status >= 400:
        response: dict[str, Any] = {
            "description": ERROR_MEANINGS.get(status, "Error."),
            "content": {"application/json": {"schema": ERROR_REF}},
        }
        if status in (429, 503):
            response["headers"] = {"Retry-After": RETRY_AFTER}
        return response
    description = SUCCESS_MEANINGS.get(status, "OK")
    if spec is None:
        return {"description": description}
    return {"description": description, "content": {"application/json": {"schema": refs[spec]}}}


def _operation(path: str, method: str, doc: RouteDoc, refs: dict) -> dict[str, Any]:
    parameters = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "string", "minLength": 1, "maxLength": MAX_PATH_PARAM,
                    "pattern": "^[!-~]+$"}}
        for name in _path_params(path)
    ]  # fmt: skip
    for location, params in (("query", doc.query), ("header", doc.headers)):
        parameters += [
            {"name": p.name, "in": location, "required": p.required, "description": p.description,
             "schema": p.schema}
            for p in params
        ]  # fmt: skip
    statuses = dict(doc.responses)
    for status in _errors_for(path, method, doc):
        statuses.setdefault(status, None)
    slug = re.sub(r"[^a-zA-Z0-9]+", "_", path).strip("_") or "root"
    responses = {
        str(status): _response(status, spec, refs) for status, spec in sorted(statuses.items())
    }
    if FORM in doc.content_types:
        # A person's browser posting the form gets a page back, whatever the status.
        for response in responses.values():
            response.setdefault("content", {})[HTML] = {"schema": {"type": "string"}}
    operation: dict[str, Any] = {
        "operationId": f"{method.lower()}_{slug}",
        "summary": doc.summary,
        "tags": [doc.tag],
        "responses": responses,
    }
    if doc.description:
        operation["description"] = doc.description
    if parameters:
        operation["parameters"] = parameters
    if doc.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {media: {"schema": refs[doc.body]} for media in doc.content_types},
        }
    if doc.auth == BEARER:
        operation["security"] = [{"bearerAuth": []}]
    elif doc.auth == OPTIONAL_BEARER:
        operation["security"] = [{}, {"bearerAuth": []}]
    else:
        operation["security"] = []
    return operation


def build_openapi(app: Chalice) -> dict[str, Any]:
    """The whole document for every route the app serves."""
    routes = [
        (path, method, ROUTE_DOCS[(method, path)])
        for path, methods in app.routes.items()
        for method in methods
    ]
    bodies = {doc.body for _, _, doc in routes if doc.body is not None}
    answers = {ERROR_MODEL} | {
        spec
        for _, _, doc in routes
        for spec in doc.responses.values()
        if spec is not None and not is_media_type(spec)
    }
    models = {ref: schemas.model(ref) for ref in bodies | answers}
    keys, definitions = models_json_schema(
        [(models[ref], "validation" if ref in bodies else "serialization")
         for ref in sorted(models, key=lambda ref: models[ref].__name__)],
        ref_template=REF,
    )  # fmt: skip
    by_model = {model: ref for (model, _), ref in keys.items()}
    refs = {ref: by_model[model] for ref, model in models.items()}
    paths: dict[str, dict[str, Any]] = {}
    for path, method, doc in sorted(routes):
        paths.setdefault(path, {})[method.lower()] = _operation(path, method, doc, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Events API",
            "version": "1.0.0",
            "description": (
                "Sell and manage event tickets. Organizers create events, sell them in ticket "
                "types sharing one capacity and give shares of their tickets to resellers; "
                "resellers offer them; buyers (no account) pick a seller and order, receiving "
                "an order token for that order. Errors are `{error, code, details?}`."
            ),
        },
        # The public base URL (stage path included), so "Try it out" calls this API.
        "servers": [{"url": get_settings().app_url, "description": "this API"}],
        # The order a newcomer meets them in Swagger UI: sign up, sell, book, administer.
        "tags": [{"name": tag} for tag in TAG_ORDER if tag in {d.tag for _, _, d in routes}],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }
