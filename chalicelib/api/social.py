"""Sign-in with Google or GitHub: the device flow in two steps, and token exchange."""

from __future__ import annotations

from dataclasses import asdict

from chalice import Response

from chalicelib.api import schemas
from chalicelib.api.accounts import token_out
from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.api.requests import parse_body, source_ip
from chalicelib.api.responses import model_response
from chalicelib.services.accounts import social
from chalicelib.services.operations import limits

bp = ApiBlueprint(__name__)
TAG = "social sign-in"
STEP_1 = {200: "responses.DeviceStartOut", 429: None, 502: None, 503: None}
STEP_2 = {200: "responses.TokenOut", 401: None, 403: None, 429: None, 502: None, 503: None}
STEP_2_NOTE = (
    "Until the person approves: 400 with code `authorization_pending` (or `slow_down`, "
    "`expired_token`, `access_denied`)."
)


def _start(name: str) -> Response:
    limits.enforce(device_ip=source_ip(bp.current_request))
    return model_response(
        schemas.responses.DeviceStartOut(**asdict(social.provider(name).start_device_flow()))
    )


def _finish(name: str) -> Response:
    body = parse_body(bp.current_request, schemas.social.DeviceCodeBody)
    limits.enforce(device_ip=source_ip(bp.current_request))
    identity = social.provider(name).finish_device_flow(body.device_code)
    return model_response(token_out(social.sign_in(identity)))


@bp.route("/google-device-auth-step-1", methods=["GET"], summary="Start Google's device flow",
          tag=TAG, responses=STEP_1)  # fmt: skip
def google_device_start() -> Response:
    return _start("google")


@bp.route("/google-device-auth-step-2", methods=["POST"], summary="Finish Google's device flow",
          description=STEP_2_NOTE, tag=TAG, body="social.DeviceCodeBody",
          responses=STEP_2)  # fmt: skip
def google_device_finish() -> Response:
    return _finish("google")


@bp.route("/github-device-auth-step-1", methods=["GET"], summary="Start GitHub's device flow",
          tag=TAG, responses=STEP_1)  # fmt: skip
def github_device_start() -> Response:
    return _start("github")


@bp.route("/github-device-auth-step-2", methods=["POST"], summary="Finish GitHub's device flow",
          description=STEP_2_NOTE, tag=TAG, body="social.DeviceCodeBody",
          responses=STEP_2)  # fmt: skip
def github_device_finish() -> Response:
    return _finish("github")


@bp.route("/auth/google", methods=["POST"], summary="Exchange a Google ID token for ours",
          tag=TAG, body="social.GoogleTokenBody", responses=STEP_2)  # fmt: skip
def google_token_exchange() -> Response:
    body = parse_body(bp.current_request, schemas.social.GoogleTokenBody)
    limits.enforce(auth_ip=source_ip(bp.current_request))
    identity = social.provider("google").identity_from_token(body.id_token)
    return model_response(token_out(social.sign_in(identity)))


@bp.route("/auth/github", methods=["POST"], summary="Exchange a GitHub access token for ours",
          description="Only a token GitHub issued to this API's OAuth app is accepted (401 "
          "otherwise); needs GITHUB_CLIENT_SECRET on the server (503 without).",
          tag=TAG, body="social.GitHubTokenBody", responses=STEP_2)  # fmt: skip
def github_token_exchange() -> Response:
    body = parse_body(bp.current_request, schemas.social.GitHubTokenBody)
    limits.enforce(auth_ip=source_ip(bp.current_request))
    return model_response(token_out(social.exchange_github_token(body.access_token)))
