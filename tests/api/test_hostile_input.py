"""Hostile input on every route: each path parameter, query parameter and body field gets a
fixed list of hostile values, and the answer is never a 500: a 4xx in the error shape (or a
2xx where the value happens to be harmless, e.g. a name with quotes)."""

from __future__ import annotations

import json
import re
from urllib.parse import quote, urlencode

import pytest

import app  # noqa: F401 - importing the app fills the route table walked here
from chalicelib.api import schemas
from chalicelib.api.blueprint import ROUTE_DOCS
from chalicelib.api.pages import HTML
from tests.conftest import admin_user, buyer_body, make_event, make_user

# Values no parameter of this API accepts: each must be refused with a 4xx wherever it goes.
NEVER_VALID = [
    "\x00",
    "x" * 300,
    "a.\u00e9",  # non-ASCII (compare_digest on a next_token once crashed on it)
    "\u00b2",  # str.isdigit() says yes, int() says no
    "line\nbreak",
]
# Values that are fine in some places and hostile in others: never a 5xx.
AWKWARD = [
    "",
    " ",
    "../../etc/passwd",
    "' OR '1'='1",
    "{{7*7}}<script>",
    "-1",
    "1e309",
    "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
    "9999-12-31T23:59:59-14:00",  # after year 9999 in UTC
    "true",
]
NESTED = "[" * 2048 + "]" * 2048
BODY_VALUES = [*NEVER_VALID, *AWKWARD, None, 0, -1, 10**30, 1.5, True, [], {}, ["x"], {"a": 1}]
# No body field takes a lone NUL: too short for a password, a control character in a name,
# no email, no id, no token.
BODY_NEVER_VALID = ["\x00"]


ROUTES = sorted(ROUTE_DOCS.items())
BODY_ROUTES = [(route, doc) for route, doc in ROUTES if doc.body is not None]


def walk(table):
    return pytest.mark.parametrize(
        ("route", "doc"), table, ids=[f"{method} {path}" for (method, path), _ in table]
    )


def path_params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


@pytest.fixture
def world(api):
    """Real ids for every kind of path parameter, so hostile values reach the deep code."""
    organizer = make_user("organizer")
    reseller = make_user("reseller")
    event_id = make_event(organizer)
    admin = admin_user()
    api.put(f"/events/{event_id}/allocations/{reseller.id}", {"number_of_tickets": 5}, as_=admin)
    booked = api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer_body()})
    ticket = booked.json_body["tickets"][0]
    return {
        "admin": admin,
        "ids": {
            "event_id": event_id,
            "reseller_id": reseller.id,
            "user_id": organizer.id,
            "ticket_id": ticket["id"],
            "buyer_id": ticket["buyer_id"],
            "token": "not-a-real-token",
        },
    }


def call(api, method, path, *, body=None, as_=None):
    raw = body if isinstance(body, str) else json.dumps(body) if body is not None else None
    return api.call(method, path, raw, as_=as_)


def assert_refused_cleanly(response, doc, *, strict):
    where = f"{response.status_code} {response.body[:200]!r}"
    # A documented 5xx (the sign-in provider unreachable, here: none runs) is an answer too.
    assert response.status_code < 500 or response.status_code in doc.responses, where
    if strict:
        assert 400 <= response.status_code < 500, where
    if response.status_code >= 400:
        if doc.responses.get(response.status_code) == HTML:
            assert response.headers["Content-Type"].startswith("text/html"), where
        else:
            body = response.json_body
            assert isinstance(body, dict) and {"error", "code"} <= set(body), where


def fill(path: str, ids: dict[str, str], **override: str) -> str:
    for name in path_params(path):
        value = override.get(name, ids.get(name, "unknown-id"))
        path = path.replace(f"{{{name}}}", quote(value, safe=""))
    return path


@walk(ROUTES)
def test_hostile_path_parameters_are_refused_cleanly(api, world, route, doc):
    method, path = route
    for name in path_params(path):
        for value in NEVER_VALID + AWKWARD:
            url = fill(path, world["ids"], **{name: value})
            response = call(api, method, url, body={}, as_=world["admin"])
            assert_refused_cleanly(response, doc, strict=value in NEVER_VALID)


@walk(ROUTES)
def test_hostile_query_parameters_are_refused_cleanly(api, world, route, doc):
    method, path = route
    url = fill(path, world["ids"])
    for param in doc.query:
        for value in NEVER_VALID + AWKWARD:
            response = call(
                api, method, f"{url}?{urlencode({param.name: value})}", as_=world["admin"]
            )
            assert_refused_cleanly(response, doc, strict=value in NEVER_VALID)


@walk(BODY_ROUTES)
def test_hostile_bodies_are_refused_cleanly(api, world, route, doc):
    method, path = route
    url = fill(path, world["ids"])
    model = schemas.model(doc.body)
    examples = (model.model_config.get("json_schema_extra") or {}).get("examples") or [{}]
    base = examples[0]
    for body in (NESTED, "{" * 5000, '{"a":' * 1000, "[]", "null", "1e999999"):
        response = call(api, method, url, body=body, as_=world["admin"])
        assert_refused_cleanly(response, doc, strict=True)
    for field in model.model_fields:
        for value in BODY_VALUES:
            response = call(api, method, url, body={**base, field: value}, as_=world["admin"])
            assert_refused_cleanly(response, doc, strict=value in BODY_NEVER_VALID)


def test_the_walk_covers_every_route(chalice_app):
    served = {(m, p) for p, methods in chalice_app.routes.items() for m in methods}

    assert served == set(ROUTE_DOCS)
