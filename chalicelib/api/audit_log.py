"""The audit log: who did what to whom, written with each change it records."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint, Param
from chalicelib.api.requests import id_param, page_params, query_params
from chalicelib.api.responses import page_response
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.db.changes import Change
from chalicelib.services.stream import audit_log
from chalicelib.services.stream.changes import AUDITED

bp = ApiBlueprint(__name__)
TAG = "audit log"


def entry_out(change: Change) -> schemas.responses.AuditEntryOut:
    return schemas.responses.AuditEntryOut(
        id=change.id,
        at=change.at,
        actor_id=change.actor_id,
        actor_role=change.actor_role,
        action=change.type,
        target_type=change.target_type,
        target_id=change.target_id,
        details=change.detail_values,
    )


@bp.route(
    "/audit-log",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="The audit log, newest first (admin)",
    description="Each entry was written in the same transaction as the change it records; "
    "nothing in the API changes or deletes entries.",
    tag=TAG,
    query=(
        Param("actor_id", "Only what this user did."),
        Param("target_id", "Only what was done to this user, event, ticket, scanner..."),
        Param("action", "Only this action.", {"type": "string", "enum": sorted(AUDITED)}),
        *PAGE_PARAMS,
    ),
    responses={200: "responses.AuditPage"},
)
def list_audit_log() -> Response:
    request = bp.current_request
    limit, next_token = page_params(request)
    page = audit_log.audit_log(
        actor=principal_of(request),
        actor_id=id_param(request, "actor_id"),
        target_id=id_param(request, "target_id"),
        action=query_params(request).get("action") or None,
        limit=limit,
        next_token=next_token,
    )
    return page_response(schemas.responses.AuditPage, "entries", page, entry_out)


@bp.route(
    "/events/{event_id}/audit-log",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="The event's own audit log, newest first (its organizer, admin)",
    tag=TAG,
    query=PAGE_PARAMS,
    responses={200: "responses.AuditPage"},
)
def list_event_audit_log(event_id: str) -> Response:
    limit, next_token = page_params(bp.current_request)
    page = audit_log.event_audit_log(
        actor=principal_of(bp.current_request), event_id=event_id, limit=limit,
        next_token=next_token,
    )  # fmt: skip
    return page_response(schemas.responses.AuditPage, "entries", page, entry_out)
