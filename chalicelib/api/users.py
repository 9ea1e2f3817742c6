"""User administration: /users and /users/{id}."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import PAGE_PARAMS, ApiBlueprint, Param
from chalicelib.api.requests import bool_param, choice_param, page_params, parse_body
from chalicelib.api.responses import model_response, no_content, page_response
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import ADMIN, SELLER_ROLES, principal_of
from chalicelib.db.users import User
from chalicelib.services.accounts import users

bp = ApiBlueprint(__name__)
TAG = "users"


def user_out(user: User) -> schemas.responses.UserOut:
    """A user as the API shows it; never the password hash or internal counters."""
    return schemas.responses.UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        provider=user.provider,
        verified=user.verified,
        blocked=user.blocked,
        created_at=user.created_at,
    )


@bp.route(
    "/users",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="List users (admin)",
    tag=TAG,
    query=(
        Param("role", "Only users with this role.", {"enum": ["admin", "organizer", "reseller"]}),
        Param(
            "blocked",
            "Only blocked (true) or unblocked (false) users.",
            {"enum": ["true", "false"]},
        ),
        *PAGE_PARAMS,
    ),
    responses={200: "responses.UserPage"},
)
def list_users() -> Response:
    request = bp.current_request
    limit, next_token = page_params(request)
    page = users.list_users(
        actor=principal_of(request),
        role=choice_param(request, "role", (ADMIN, *SELLER_ROLES)),
        blocked=bool_param(request, "blocked"),
        limit=limit,
        next_token=next_token,
    )
    return page_response(schemas.responses.UserPage, "users", page, user_out)


@bp.route(
    "/users",
    methods=["POST"],
    authorizer=bearer_auth,
    summary="Create a verified organizer or reseller (admin)",
    tag=TAG,
    body="users.CreateUserBody",
    responses={201: "responses.UserEnvelope", 409: None},
)
def create_user() -> Response:
    body = parse_body(bp.current_request, schemas.users.CreateUserBody)
    user = users.create_user(actor=principal_of(bp.current_request), **body.model_dump())
    return model_response(schemas.responses.UserEnvelope(user=user_out(user)), status=201)


@bp.route(
    "/users/{user_id}",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="One user (admin, or the user themself)",
    tag=TAG,
    responses={200: "responses.UserEnvelope"},
)
def get_user(user_id: str) -> Response:
    user = users.get_user(actor=principal_of(bp.current_request), user_id=user_id)
    return model_response(schemas.responses.UserEnvelope(user=user_out(user)))


@bp.route(
    "/users/{user_id}",
    methods=["PUT"],
    authorizer=bearer_auth,
    summary="Change a user (admin: any field; the user themself: name, password)",
    description="`blocked: false` unblocks and resets the failed-login count.",
    tag=TAG,
    body="users.UpdateUserBody",
    responses={200: "responses.UserEnvelope", 409: None, 429: None},  # 429: as for PUT /myself
)
def update_user(user_id: str) -> Response:
    body = parse_body(bp.current_request, schemas.users.UpdateUserBody)
    user = users.update_user(
        actor=principal_of(bp.current_request),
        user_id=user_id,
        changes=users.UserChanges(**body.model_dump()),
    )
    return model_response(schemas.responses.UserEnvelope(user=user_out(user)))


@bp.route(
    "/users/{user_id}",
    methods=["DELETE"],
    authorizer=bearer_auth,
    summary="Delete a user (admin)",
    description="A seller still holding allocations or sales answers 409.",
    tag=TAG,
    responses={204: None, 409: None},
)
def delete_user(user_id: str) -> Response:
    users.delete_user(actor=principal_of(bp.current_request), user_id=user_id)
    return no_content()
