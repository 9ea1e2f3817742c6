"""Each caller kind against each account and user route: who gets in, who gets refused."""

import pytest

from tests.conftest import admin_user, make_user, random_email

CALLERS = ("anonymous", "admin", "organizer", "reseller", "no_role")

# (method, path, body, {caller: expected status}); {other} is another user's id, {self}
# the caller's own id.
MATRIX = [
    (
        "GET",
        "/myself",
        None,
        dict(anonymous=401, admin=200, organizer=200, reseller=200, no_role=200),
    ),
    (
        "PUT",
        "/myself",
        {"name": "N"},
        dict(anonymous=401, admin=200, organizer=200, reseller=200, no_role=200),
    ),
    (
        "GET",
        "/users",
        None,
        dict(anonymous=401, admin=200, organizer=403, reseller=403, no_role=403),
    ),
    (
        "POST",
        "/users",
        "new_user",
        dict(anonymous=401, admin=201, organizer=403, reseller=403, no_role=403),
    ),
    (
        "GET",
        "/users/{other}",
        None,
        dict(anonymous=401, admin=200, organizer=403, reseller=403, no_role=403),
    ),
    ("GET", "/users/{self}", None, dict(admin=200, organizer=200, reseller=200, no_role=200)),
    (
        "PUT",
        "/users/{other}",
        {"name": "N"},
        dict(anonymous=401, admin=200, organizer=403, reseller=403, no_role=403),
    ),
    (
        "PUT",
        "/users/{self}",
        {"name": "N"},
        dict(admin=200, organizer=200, reseller=200, no_role=200),
    ),
    (
        "DELETE",
        "/users/{other}",
        None,
        dict(anonymous=401, admin=204, organizer=403, reseller=403, no_role=403),
    ),
]


def caller(kind):
    if kind == "anonymous":
        return None
    if kind == "admin":
        return admin_user()
    if kind == "no_role":
        return make_user(None, password=None, provider="google")
    return make_user(kind)


CASES = [
    pytest.param(kind, method, path, body, expected[kind], id=f"{kind}-{method}-{path}")
    for method, path, body, expected in MATRIX
    for kind in CALLERS
    if kind in expected
]


@pytest.mark.parametrize(("kind", "method", "path", "body", "expected"), CASES)
def test_authorization_matrix(api, kind, method, path, body, expected):
    user = caller(kind)
    other = make_user("reseller")
    if body == "new_user":
        body = {"email": random_email(), "password": "password1", "name": "N", "role": "reseller"}
    path = path.format(other=other.id, self=user.id if user else "-")

    response = api.call(method, path, body, as_=user)

    assert response.status_code == expected, response.body
    if expected >= 400:
        assert set(response.json_body) == {"error", "code"}
