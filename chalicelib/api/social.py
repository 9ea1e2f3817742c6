"""Sign-in with Google or GitHub: the device flow in two steps, and token exchange."""

from __future__ import annotations

from dataclasses import asdict

from chalicelib.api.accounts import token_json
from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.api.requests import parse_body
from chalicelib.api.responses import json_response
from chalicelib.api.schemas.social import DeviceCodeBody, GitHubTokenBody, GoogleTokenBody
from chalicelib.services import social

bp = ApiBlueprint(__name__)


def _start(name: str):
    return json_response(asdict(social.provider(name).start_device_flow()))


def _finish(name: str):
    body = parse_body(bp.current_request, DeviceCodeBody)
    identity = social.provider(name).finish_device_flow(body.device_code)
    return json_response(token_json(social.sign_in(identity)))


@bp.route("/google-device-auth-step-1", methods=["GET"])
def google_device_start():
    return _start("google")


@bp.route("/google-device-auth-step-2", methods=["POST"])
def google_device_finish():
    return _finish("google")


@bp.route("/github-device-auth-step-1", methods=["GET"])
def github_device_start():
    return _start("github")


@bp.route("/github-device-auth-step-2", methods=["POST"])
def github_device_finish():
    return _finish("github")


@bp.route("/auth/google", methods=["POST"])
def google_token_exchange():
    body = parse_body(bp.current_request, GoogleTokenBody)
    identity = social.provider("google").identity_from_token(body.id_token)
    return json_response(token_json(social.sign_in(identity)))


@bp.route("/auth/github", methods=["POST"])
def github_token_exchange():
    body = parse_body(bp.current_request, GitHubTokenBody)
    identity = social.provider("github").identity_from_token(body.access_token)
    return json_response(token_json(social.sign_in(identity)))
