"""The error contract at the HTTP edge: every 4xx/5xx is {"error", "code", "details"?}."""

import json

import pytest
from chalice import Chalice
from chalice.test import Client
from pydantic import BaseModel, Field

from chalicelib.api.blueprint import ApiBlueprint
from chalicelib.api.middleware import MAX_BODY_BYTES, http_middleware
from chalicelib.api.requests import parse_body
from chalicelib.api.responses import json_response
from chalicelib.errors import Conflict
from devstack.gateway import ContractGateway


class Order(BaseModel):
    title: str = Field(min_length=1, max_length=20)
    quantity: int = Field(ge=1, le=10)


def build_probe_app() -> Chalice:
    """A throwaway app wired exactly like app.py, with routes that exercise the edge."""
    probe = Chalice(app_name="probe")
    probe.register_middleware(http_middleware, "http")
    bp = ApiBlueprint(__name__)

    doc = {"summary": "probe", "tag": "probe", "responses": {200: None}}

    @bp.route("/_probe/orders", methods=["POST"], **doc)
    def create_order():
        order = parse_body(bp.current_request, Order)
        return json_response(order.model_dump(), status=201)

    @bp.route("/_probe/conflict", methods=["GET"], **doc)
    def conflict():
        raise Conflict("Event sold out.", code="sold_out")

    @bp.route("/_probe/crash", methods=["GET"], **doc)
    def crash():
        raise RuntimeError("secret internals /srv/app.py line 7")

    probe.register_blueprint(bp)
    return probe


@pytest.fixture
def probe():
    from chalicelib.api.blueprint import ROUTE_DOCS

    real_docs = dict(ROUTE_DOCS)  # the probe's routes must not document the real app's
    app = build_probe_app()
    with Client(app) as client:
        client.http._local_gateway = ContractGateway(app, client.http._config)
        yield client.http
    ROUTE_DOCS.clear()
    ROUTE_DOCS.update(real_docs)


def post_json(http, path, body, **headers):
    return http.post(
        path,
        body=body if isinstance(body, (str, bytes)) else json.dumps(body),
        headers={"Content-Type": "application/json", **headers},
    )


def test_valid_body_reaches_the_view(probe):
    response = post_json(probe, "/_probe/orders", {"title": "A concert", "quantity": 2})

    assert response.status_code == 201
    assert response.json_body == {"title": "A concert", "quantity": 2}


@pytest.mark.parametrize("body", ["{not json", "", "[1, 2]", '"text"', b"\xff\xfe"])
def test_malformed_or_non_object_json_is_a_400(probe, body):
    response = post_json(probe, "/_probe/orders", body)

    assert response.status_code == 400
    assert response.json_body["error"] == "Invalid request."
    assert response.json_body["code"] == "malformed_json"
    assert "body" in response.json_body["details"]


def test_invalid_fields_are_a_400_naming_each_field(probe):
    response = post_json(probe, "/_probe/orders", {"title": "", "quantity": 11})

    assert response.status_code == 400
    assert response.json_body["code"] == "invalid_request"
    assert set(response.json_body["details"]) == {"title", "quantity"}


def test_missing_fields_are_named_in_details(probe):
    response = post_json(probe, "/_probe/orders", {})

    assert response.status_code == 400
    assert set(response.json_body["details"]) == {"title", "quantity"}


def test_wrong_content_type_is_a_415_in_the_error_shape(probe):
    response = probe.post(
        "/_probe/orders",
        body="title=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 415
    assert response.json_body["code"] == "unsupported_media_type"
    assert "application/x-www-form-urlencoded" in response.json_body["error"]


def test_body_over_64_kib_is_a_413_and_never_reaches_the_view(probe):
    big = {"title": "x", "quantity": 1, "padding": "a" * MAX_BODY_BYTES}

    response = post_json(probe, "/_probe/orders", big)

    assert response.status_code == 413
    assert response.json_body["code"] == "payload_too_large"


def test_body_of_exactly_64_kib_is_accepted(probe):
    body = json.dumps({"title": "x", "quantity": 1, "pad": ""})
    body = body.replace('"pad": ""', '"pad": "' + "a" * (MAX_BODY_BYTES - len(body)) + '"')
    assert len(body) == MAX_BODY_BYTES

    response = post_json(probe, "/_probe/orders", body)

    assert response.status_code == 201


def test_domain_error_is_rendered_with_its_status_and_code(probe):
    response = probe.get("/_probe/conflict")

    assert response.status_code == 409
    assert response.json_body == {"error": "Event sold out.", "code": "sold_out"}


def test_unexpected_exception_is_a_500_without_internals(probe):
    response = probe.get("/_probe/crash")

    assert response.status_code == 500
    assert response.json_body == {"error": "An internal error occurred.", "code": "internal_error"}
    assert b"secret" not in response.body
    assert b"Traceback" not in response.body


def test_unknown_route_is_a_404_in_the_error_shape(client):
    response = client.http.get("/no/such/route")

    assert response.status_code == 404
    assert response.json_body == {"error": "Not found.", "code": "not_found"}


def test_unknown_route_with_a_bearer_token_is_still_a_404(client):
    response = client.http.get("/nope", headers={"Authorization": "Bearer abc"})

    assert response.status_code == 404
    assert response.json_body["code"] == "not_found"


def test_unsupported_method_is_a_405_listing_the_allowed_ones(client):
    response = client.http.delete("/health")

    assert response.status_code == 405
    assert response.json_body["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET, HEAD"


def test_oversized_body_on_a_real_route_is_a_413(client):
    response = client.http.post(
        "/health",
        body="x" * (MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json_body["code"] == "payload_too_large"
