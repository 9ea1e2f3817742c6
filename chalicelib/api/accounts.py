"""Registration, email verification, login and the caller's own profile."""

from __future__ import annotations

from typing import Any

from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.api.pages import html_page
from chalicelib.api.requests import parse_body
from chalicelib.api.responses import json_response
from chalicelib.api.schemas.accounts import (
    LoginBody,
    RegisterBody,
    ResendVerificationBody,
    UpdateMyselfBody,
)
from chalicelib.api.users import user_json
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.auth.tokens import IssuedToken
from chalicelib.services import accounts, users

bp = ApiBlueprint(__name__)


def token_json(token: IssuedToken) -> dict[str, Any]:
    return {
        "auth_token": token.auth_token,
        "token_type": token.token_type,
        "expires_in": token.expires_in,
    }


@bp.route("/register", methods=["POST"])
def register():
    body = parse_body(bp.current_request, RegisterBody)
    user = accounts.register(**body.model_dump())
    return json_response(
        {"message": "Check your email for a link to verify your account.", "user_id": user.id},
        status=201,
    )


@bp.route("/activate/{token}", methods=["GET"])
def activate(token: str):
    try:
        outcome = accounts.activate(token=token)
    except accounts.InvalidVerificationLink as error:
        return html_page(title="Link not valid", message=error.message, status=400)
    if outcome is accounts.Activation.ALREADY_VERIFIED:
        return html_page(
            title="Already verified", message="Your account is already verified. You can log in."
        )
    return html_page(title="Account verified", message="Thank you. You can now log in.")


@bp.route("/resend-verification", methods=["POST"])
def resend_verification():
    body = parse_body(bp.current_request, ResendVerificationBody)
    accounts.resend_verification(email=body.email)
    return json_response(
        {"message": "If that account exists and is not verified yet, a new link is on its way."},
        status=202,
    )


@bp.route("/login", methods=["POST"])
def login():
    body = parse_body(bp.current_request, LoginBody)
    return json_response(token_json(accounts.login(email=body.email, password=body.password)))


@bp.route("/myself", methods=["GET"], authorizer=bearer_auth)
def get_myself():
    actor = principal_of(bp.current_request)
    return json_response(user_json(users.get_user(actor=actor, user_id=actor.user_id)))


@bp.route("/myself", methods=["PUT"], authorizer=bearer_auth)
def update_myself():
    body = parse_body(bp.current_request, UpdateMyselfBody)
    actor = principal_of(bp.current_request)
    user = users.update_user(
        actor=actor,
        user_id=actor.user_id,
        changes=users.UserChanges(**body.model_dump()),
    )
    return json_response(user_json(user))
