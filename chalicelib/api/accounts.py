"""Registration, email verification, login and the caller's own profile."""

from __future__ import annotations

from chalice import Response

from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.api.pages import html_page
from chalicelib.api.requests import parse_body
from chalicelib.api.responses import model_response
from chalicelib.api.schemas.accounts import (
    LoginBody,
    RegisterBody,
    ResendVerificationBody,
    UpdateMyselfBody,
)
from chalicelib.api.schemas.responses import MessageOut, RegisteredOut, TokenOut, UserOut
from chalicelib.api.users import user_out
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.auth.tokens import IssuedToken
from chalicelib.services import accounts, users

bp = ApiBlueprint(__name__)
TAG = "accounts"
HTML = "text/html"


def token_out(token: IssuedToken) -> TokenOut:
    return TokenOut(
        auth_token=token.auth_token, token_type=token.token_type, expires_in=token.expires_in
    )


@bp.route(
    "/register",
    methods=["POST"],
    summary="Register an organizer or reseller; a verification link is emailed",
    description="Registering again while unverified re-sends the link (latest details win).",
    tag=TAG,
    body=RegisterBody,
    responses={201: RegisteredOut, 409: None},
)
def register() -> Response:
    body = parse_body(bp.current_request, RegisterBody)
    user = accounts.register(**body.model_dump())
    return model_response(
        RegisteredOut(
            message="Check your email for a link to verify your account.", user_id=user.id
        ),
        status=201,
    )


@bp.route(
    "/activate/{token}",
    methods=["GET"],
    summary="The emailed verification link (an HTML page for people)",
    tag=TAG,
    responses={200: HTML, 400: HTML},
)
def activate(token: str) -> Response:
    try:
        outcome = accounts.activate(token=token)
    except accounts.InvalidVerificationLink as error:
        return html_page(title="Link not valid", message=error.message, status=400)
    if outcome is accounts.Activation.ALREADY_VERIFIED:
        return html_page(
            title="Already verified", message="Your account is already verified. You can log in."
        )
    return html_page(title="Account verified", message="Thank you. You can now log in.")


@bp.route(
    "/resend-verification",
    methods=["POST"],
    summary="Send a new verification link (always 202; rate-limited)",
    tag=TAG,
    body=ResendVerificationBody,
    responses={202: MessageOut},
)
def resend_verification() -> Response:
    body = parse_body(bp.current_request, ResendVerificationBody)
    accounts.resend_verification(email=body.email)
    return model_response(
        MessageOut(
            message="If that account exists and is not verified yet, a new link is on its way."
        ),
        status=202,
    )


@bp.route(
    "/login",
    methods=["POST"],
    summary="Log in with email and password",
    description="Three failed logins in a row block the account until an admin unblocks it.",
    tag=TAG,
    body=LoginBody,
    responses={200: TokenOut, 401: None, 403: None},
)
def login() -> Response:
    body = parse_body(bp.current_request, LoginBody)
    return model_response(token_out(accounts.login(email=body.email, password=body.password)))


@bp.route(
    "/myself",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="My profile",
    tag=TAG,
    responses={200: UserOut},
)
def get_myself() -> Response:
    actor = principal_of(bp.current_request)
    return model_response(user_out(users.get_user(actor=actor, user_id=actor.user_id)))


@bp.route(
    "/myself",
    methods=["PUT"],
    authorizer=bearer_auth,
    summary="Change my name or password, or choose my role once",
    description="Changing the password revokes every token issued before.",
    tag=TAG,
    body=UpdateMyselfBody,
    responses={200: UserOut, 409: None},
)
def update_myself() -> Response:
    body = parse_body(bp.current_request, UpdateMyselfBody)
    actor = principal_of(bp.current_request)
    user = users.update_user(
        actor=actor, user_id=actor.user_id, changes=users.UserChanges(**body.model_dump())
    )
    return model_response(user_out(user))
