"""GET /myself and PUT /myself."""

import pytest

from chalicelib.auth.passwords import verify_password
from chalicelib.db.users import User
from tests.conftest import DEFAULT_PASSWORD, make_user, token_for

PROFILE_KEYS = {"id", "email", "name", "role", "provider", "verified", "blocked", "created_at"}


def test_myself_is_the_callers_profile_without_secrets(api):
    user = make_user("reseller", name="Rita")

    response = api.get("/myself", as_=user)

    assert response.status_code == 200
    assert set(response.json_body) == PROFILE_KEYS
    assert response.json_body["email"] == user.email
    assert (response.json_body["role"], response.json_body["name"]) == ("reseller", "Rita")
    assert response.json_body["provider"] == "email"
    assert b"argon2" not in response.body


def test_can_change_own_name(api):
    user = make_user(name="Old")

    response = api.put("/myself", {"name": "  New Name  "}, as_=user)

    assert response.status_code == 200
    assert response.json_body["name"] == "New Name"
    assert User.get(user.id).name == "New Name"


def test_password_change_needs_the_current_password(api):
    user = make_user()

    response = api.put("/myself", {"password": "another-password"}, as_=user)

    assert response.status_code == 400
    assert verify_password(DEFAULT_PASSWORD, User.get(user.id).password_hash)[0]


def test_password_change_with_a_wrong_current_password_is_refused_and_counts(api):
    user = make_user()

    response = api.put(
        "/myself",
        {"password": "another-password", "current_password": "not-it"},
        as_=user,
    )

    assert response.status_code == 400
    assert "current_password" in response.json_body["details"]
    stored = User.get(user.id)
    assert verify_password(DEFAULT_PASSWORD, stored.password_hash)[0]
    assert stored.failed_logins == 1


def test_password_change_takes_effect_and_revokes_the_old_token(api):
    user = make_user()
    token = token_for(user)

    response = api.put(
        "/myself",
        {"password": "another-password", "current_password": DEFAULT_PASSWORD},
        as_=token,
    )

    assert response.status_code == 200
    assert api.get("/myself", as_=token).status_code in (401, 403)
    new_login = api.post("/login", {"email": user.email, "password": "another-password"})
    assert new_login.status_code == 200
    old_login = api.post("/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    assert old_login.status_code == 401


def test_social_user_chooses_a_role_once(api):
    user = make_user(None, password=None, provider="github")

    first = api.put("/myself", {"role": "reseller"}, as_=user)
    token = token_for(User.get(user.id))
    second = api.put("/myself", {"role": "organizer"}, as_=token)

    assert first.status_code == 200
    assert first.json_body["role"] == "reseller"
    assert second.status_code == 409
    assert second.json_body["code"] == "role_already_set"
    assert User.get(user.id).role == "reseller"


def test_a_user_with_a_role_cannot_change_it(api):
    user = make_user("organizer")

    response = api.put("/myself", {"role": "reseller"}, as_=user)

    assert response.status_code == 409
    assert User.get(user.id).role == "organizer"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "admin"}, "role"),
        ({"blocked": False}, "blocked"),
        ({"email": "new@example.com"}, "email"),
        ({"name": ""}, "name"),
        ({"name": "x" * 257}, "name"),
        ({}, "body"),
        ({"password": "short", "current_password": DEFAULT_PASSWORD}, "password"),
    ],
)
def test_invalid_changes_are_a_400_and_change_nothing(api, body, field):
    user = make_user("reseller", name="Same")

    response = api.put("/myself", body, as_=user)

    assert response.status_code == 400
    assert field in response.json_body["details"]
    stored = User.get(user.id)
    assert (stored.role, stored.name, stored.email, stored.blocked) == (
        "reseller",
        "Same",
        user.email,
        False,
    )
