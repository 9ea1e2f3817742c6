"""Registration, email verification, login and the caller's own profile."""

from __future__ import annotations

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.api.pages import HTML, error_page, html_page, reset_form_page
from chalicelib.api.requests import FORM, is_form, parse_body, source_ip
from chalicelib.api.responses import model_response
from chalicelib.api.users import user_out
from chalicelib.auth.authorizer import bearer_auth
from chalicelib.auth.principal import principal_of
from chalicelib.auth.tokens import IssuedToken
from chalicelib.email.addresses import normalize_email
from chalicelib.errors import AppError
from chalicelib.services.accounts import sign_in, users
from chalicelib.services.operations import limits
from chalicelib.settings import get_settings

bp = ApiBlueprint(__name__)
TAG = "accounts"


def token_out(token: IssuedToken) -> schemas.responses.TokenOut:
    return schemas.responses.TokenOut(
        auth_token=token.auth_token, token_type=token.token_type, expires_in=token.expires_in
    )


@bp.route(
    "/register",
    methods=["POST"],
    summary="Register an organizer or reseller; a verification link is emailed",
    description="An email already registered, verified or not, is a 409 and changes nothing. "
    "An unverified account whose 24-hour link expired unused is released and replaced.",
    tag=TAG,
    body="accounts.RegisterBody",
    responses={201: "responses.RegisteredOut", 409: None},
    limited=True,
)
def register() -> Response:
    request = bp.current_request
    body = parse_body(request, schemas.accounts.RegisterBody)
    limits.enforce(email_ip=source_ip(request))
    user = sign_in.register(**body.model_dump())
    return model_response(
        schemas.responses.RegisteredOut(
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
        outcome = sign_in.activate(token=token)
    except sign_in.InvalidVerificationLink as error:
        return html_page(title="Link not valid", message=error.message, status=400)
    if outcome is sign_in.Activation.ALREADY_VERIFIED:
        return html_page(
            title="Already verified", message="Your account is already verified. You can log in."
        )
    return html_page(title="Account verified", message="Thank you. You can now log in.")


@bp.route(
    "/resend-verification",
    methods=["POST"],
    summary="Send a new verification link (always 202; rate-limited)",
    tag=TAG,
    body="accounts.EmailBody",
    responses={202: "responses.MessageOut"},
    limited=True,
)
def resend_verification() -> Response:
    request = bp.current_request
    body = parse_body(request, schemas.accounts.EmailBody)
    limits.enforce(email_ip=source_ip(request), link_email=normalize_email(body.email))
    sign_in.resend_verification(email=body.email)
    return model_response(
        schemas.responses.MessageOut(
            message="If that account exists and is not verified yet, a new link is on its way."
        ),
        status=202,
    )


@bp.route(
    "/login",
    methods=["POST"],
    summary="Log in with email and password",
    description="Three failed logins in a row block the account until an admin unblocks it. "
    "Parallel logins never block: when too many checks of one account are running, 429 "
    "`too_many_attempts` with Retry-After.",
    tag=TAG,
    body="accounts.LoginBody",
    responses={200: "responses.TokenOut", 401: None, 403: None},
    limited=True,
)
def login() -> Response:
    request = bp.current_request
    body = parse_body(request, schemas.accounts.LoginBody)
    limits.enforce(auth_ip=source_ip(request), login_email=normalize_email(body.email))
    return model_response(token_out(sign_in.login(email=body.email, password=body.password)))


@bp.route(
    "/forgot-password",
    methods=["POST"],
    summary="Email a password reset link (always 202)",
    description="A known, unblocked account gets a single-use link valid for one hour; a newer "
    "request replaces it. The answer is the same whatever the email.",
    tag=TAG,
    body="accounts.EmailBody",
    responses={202: "responses.MessageOut"},
    limited=True,
)
def forgot_password() -> Response:
    request = bp.current_request
    body = parse_body(request, schemas.accounts.EmailBody)
    limits.enforce(email_ip=source_ip(request), link_email=normalize_email(body.email))
    sign_in.forgot_password(email=body.email)
    return model_response(
        schemas.responses.MessageOut(
            message="If that account exists, a link to reset its password is on its way."
        ),
        status=202,
    )


@bp.route(
    "/reset-password/{token}",
    methods=["GET"],
    summary="The emailed reset link: a page with a form for the new password",
    description="Opening the page uses nothing up; the form posts to POST /reset-password.",
    tag=TAG,
    responses={200: HTML, 400: HTML},
)
def reset_password_page(token: str) -> Response:
    try:
        sign_in.check_reset_link(token=token)
    except sign_in.InvalidResetLink as error:
        return html_page(title="Link not valid", message=error.message, status=400)
    return reset_form_page(token=token, action=f"{get_settings().app_url}/reset-password")


RESET_DONE = "Your password is changed. Sessions signed in before have ended; you can log in."


@bp.route(
    "/reset-password",
    methods=["POST"],
    summary="Set a new password with the emailed token",
    description="Marks the email verified, ends every session issued before and clears the "
    "failure count; a blocked account stays blocked. Used, expired, replaced or forged token: "
    "400 `invalid_reset_link`. The page's HTML form posts here too and gets a page back.",
    tag=TAG,
    body="accounts.ResetPasswordBody",
    responses={200: "responses.MessageOut"},
    limited=True,
    content_types=["application/json", FORM],
)
def reset_password() -> Response:
    request = bp.current_request
    try:
        body = parse_body(request, schemas.accounts.ResetPasswordBody)
        limits.enforce(auth_ip=source_ip(request))
        sign_in.reset_password(token=body.token, password=body.password)
    except AppError as error:
        if not is_form(request):
            raise
        return error_page(title="Password not changed", error=error)
    if is_form(request):
        return html_page(title="Password changed", message=RESET_DONE)
    return model_response(schemas.responses.MessageOut(message=RESET_DONE))


@bp.route(
    "/myself",
    methods=["GET"],
    authorizer=bearer_auth,
    summary="My profile",
    tag=TAG,
    responses={200: "responses.UserOut"},
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
    body="accounts.UpdateMyselfBody",
    # 429: too many password checks running
    responses={200: "responses.UserOut", 409: None, 429: None},
)
def update_myself() -> Response:
    body = parse_body(bp.current_request, schemas.accounts.UpdateMyselfBody)
    actor = principal_of(bp.current_request)
    user = users.update_user(
        actor=actor, user_id=actor.user_id, changes=users.UserChanges(**body.model_dump())
    )
    return model_response(user_out(user))
