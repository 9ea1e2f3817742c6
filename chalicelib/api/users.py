"""User administration: /users and /users/{id}."""

from __future__ import annotations

from typing import Any

from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.api.requests import bool_param, choice_param, page_params, parse_body
from chalicelib.api.responses import json_response, no_content, page_response
from chalicelib.api.schemas.users import CreateUserBody, UpdateUserBody
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import ADMIN, SELLER_ROLES, principal_of
from chalicelib.db.users import User
from chalicelib.services import users

bp = ApiBlueprint(__name__)


def user_json(user: User) -> dict[str, Any]:
    """A user as the API shows it; never the password hash or internal counters."""
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "provider": user.provider,
        "verified": user.verified,
        "blocked": user.blocked,
        "created_at": user.created_at.isoformat(),
    }


@bp.route("/users", methods=["GET"], authorizer=bearer_auth)
def list_users():
    request = bp.current_request
    limit, next_token = page_params(request)
    page = users.list_users(
        actor=principal_of(request),
        role=choice_param(request, "role", (ADMIN, *SELLER_ROLES)),
        blocked=bool_param(request, "blocked"),
        limit=limit,
        next_token=next_token,
    )
    return page_response("users", page, user_json)


@bp.route("/users", methods=["POST"], authorizer=bearer_auth)
def create_user():
    body = parse_body(bp.current_request, CreateUserBody)
    user = users.create_user(actor=principal_of(bp.current_request), **body.model_dump())
    return json_response({"user": user_json(user)}, status=201)


@bp.route("/users/{user_id}", methods=["GET"], authorizer=bearer_auth)
def get_user(user_id: str):
    user = users.get_user(actor=principal_of(bp.current_request), user_id=user_id)
    return json_response({"user": user_json(user)})


@bp.route("/users/{user_id}", methods=["PUT"], authorizer=bearer_auth)
def update_user(user_id: str):
    body = parse_body(bp.current_request, UpdateUserBody)
    user = users.update_user(
        actor=principal_of(bp.current_request),
        user_id=user_id,
        changes=users.UserChanges(**body.model_dump()),
    )
    return json_response({"user": user_json(user)})


@bp.route("/users/{user_id}", methods=["DELETE"], authorizer=bearer_auth)
def delete_user(user_id: str):
    users.delete_user(actor=principal_of(bp.current_request), user_id=user_id)
    return no_content()
