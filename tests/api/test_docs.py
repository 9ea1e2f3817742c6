"""The OpenAPI document and the Swagger UI page that renders it."""

import json

import pytest
from openapi_spec_validator import validate

from chalicelib.api.openapi import build_openapi


@pytest.fixture
def document(client):
    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.body)


def test_the_document_is_valid_openapi_3_1(document):
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_route_is_documented_and_every_documented_route_exists(document, chalice_app):
    served = {
        (path, method.lower()) for path, methods in chalice_app.routes.items() for method in methods
    }
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}

    assert documented == served


def test_every_operation_documents_success_and_errors_in_the_error_shape(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            statuses = {int(s) for s in operation["responses"]}
            # Success: a 2xx, or a 303 to what was asked for (an export's download link).
            assert any(200 <= s < 300 or s == 303 for s in statuses), (method, path)
            for status, response in operation["responses"].items():
                if int(status) >= 400 and "text/html" not in response["content"]:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path)


def test_protected_routes_declare_bearer_auth_and_its_refusals(document):
    myself = document["paths"]["/myself"]["get"]
    booking = document["paths"]["/sold-tickets"]["post"]
    events = document["paths"]["/events"]["get"]

    assert myself["security"] == [{"bearerAuth": []}]
    assert {"401", "403"} <= set(myself["responses"])
    assert booking["security"] == [{}, {"bearerAuth": []}]
    assert events["security"] == []
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_request_bodies_carry_the_constraints_the_code_validates(document):
    schemas = document["components"]["schemas"]
    register = schemas["RegisterBody"]
    event = schemas["CreateEventBody"]

    assert register["properties"]["password"]["minLength"] == 8
    assert register["properties"]["role"]["enum"] == ["organizer", "reseller"]
    assert register["additionalProperties"] is False
    assert event["properties"]["number_of_tickets"]["maximum"] == 1_000_000
    assert event["properties"]["time"]["format"] == "date-time"
    assert register["examples"] and event["examples"] and schemas["BookingBody"]["examples"]


def test_booking_documents_its_idempotency_header_and_conflicts(document):
    booking = document["paths"]["/sold-tickets"]["post"]

    headers = [p["name"] for p in booking["parameters"] if p["in"] == "header"]
    assert headers == ["Idempotency-Key", "X-Admission"]
    assert {"201", "400", "404", "409", "422"} <= set(booking["responses"])


def test_list_routes_document_pagination(document):
    for path in ("/events", "/users", "/sold-tickets", "/buyers", "/allocations"):
        names = {p["name"] for p in document["paths"][path]["get"]["parameters"]}
        assert {"limit", "next_token"} <= names, path


def test_the_document_is_built_from_the_app_itself(chalice_app, document):
    assert build_openapi(chalice_app) == document


def test_swagger_ui_is_served_at_the_root_with_local_assets(client):
    page = client.http.get("/")

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    assert 'url: "openapi.json"' in html
    assert "https://" not in html  # no CDN
    for asset, kind in [("swagger-ui.css", "text/css"), ("swagger-ui-bundle.js", "javascript")]:
        assert f"swagger-ui/{asset}" in html
        response = client.http.get(f"/swagger-ui/{asset}")
        assert response.status_code == 200
        assert kind in response.headers["Content-Type"]
        assert len(response.body) > 10_000


def test_unknown_assets_are_a_404(client):
    for name in ("index.html", "..%2F..%2Fapp.py", "LICENSE"):
        assert client.http.get(f"/swagger-ui/{name}").status_code == 404


def test_tags_are_listed_in_the_order_a_newcomer_meets_them(api):
    document = api.get("/openapi.json").json_body
    used = {
        tag for path in document["paths"].values() for op in path.values() for tag in op["tags"]
    }

    names = [tag["name"] for tag in document["tags"]]
    assert names[:3] == ["accounts", "social sign-in", "events"]
    assert set(names) == used  # every tag listed, none invented


def test_the_document_names_this_apis_public_url_as_its_server(api):
    document = api.get("/openapi.json").json_body

    assert document["servers"] == [{"url": "http://api.test", "description": "this API"}]
