"""The custom authorizer against token attacks, on a protected route."""

from datetime import timedelta

import jwt
import pytest

from chalicelib.auth.tokens import ALGORITHM, AUDIENCE
from chalicelib.db.base import utcnow
from tests.conftest import (
    TEST_ENV,
    admin_user,
    bearer,
    buyer_body,
    make_event,
    make_user,
    token_for,
)


def claims_for(user, **overrides):
    now = utcnow()
    claims = {
        "sub": user.id,
        "role": user.role,
        "ver": user.token_version,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": TEST_ENV["APP_URL"],
        "aud": AUDIENCE,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def signed(claims, key=TEST_ENV["JWT_SECRET"], algorithm=ALGORITHM):
    return jwt.encode(claims, key, algorithm=algorithm)


def myself(api, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    return api.get("/myself", headers=headers)


def assert_refused(response):
    assert response.status_code in (401, 403)
    assert set(response.json_body) == {"error", "code"}


def test_a_valid_token_is_accepted(api):
    user = make_user()

    assert myself(api, f"Bearer {token_for(user)}").status_code == 200


def test_the_scheme_is_case_insensitive(api):
    user = make_user()

    assert myself(api, f"bearer {token_for(user)}").status_code == 200


def test_no_token_is_a_401(api):
    response = myself(api, None)

    assert response.status_code == 401
    assert response.json_body == {"error": "Not authorized.", "code": "unauthorized"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_the_originals_access_token_headers_get_a_401_saying_bearer(api):
    user = make_user()

    response = api.get(
        "/myself", headers={"access-token": token_for(user), "access-type": "organizer"}
    )

    assert (response.status_code, response.headers["WWW-Authenticate"]) == (401, "Bearer")


@pytest.mark.parametrize(
    "authorization",
    ["garbage", "Bearer", "Bearer ", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "Token abc"],
)
def test_garbage_is_refused(api, authorization):
    assert_refused(myself(api, authorization))


def test_wrong_signature_is_refused(api):
    user = make_user()

    assert_refused(myself(api, f"Bearer {signed(claims_for(user), key='another-secret-x' * 3)}"))


def test_alg_none_is_refused(api):
    user = make_user()
    token = jwt.encode(claims_for(user), key=None, algorithm="none")

    assert_refused(myself(api, f"Bearer {token}"))


@pytest.mark.filterwarnings("ignore:The HMAC key is")
def test_another_hmac_algorithm_is_refused(api):
    user = make_user()

    token = signed(claims_for(user), algorithm="HS512")

    assert_refused(myself(api, f"Bearer {token}"))


def test_expired_token_is_refused(api):
    user = make_user()
    past = utcnow() - timedelta(hours=1)

    token = signed(claims_for(user, iat=past, exp=past + timedelta(minutes=30)))

    assert_refused(myself(api, f"Bearer {token}"))


@pytest.mark.parametrize(
    "override",
    [{"aud": "someone-else"}, {"iss": "https://evil.example"}],
    ids=["audience", "issuer"],
)
def test_wrong_audience_or_issuer_is_refused(api, override):
    user = make_user()

    assert_refused(myself(api, f"Bearer {signed(claims_for(user, **override))}"))


@pytest.mark.parametrize("missing", ["exp", "iat", "iss", "aud", "sub", "ver"])
def test_token_missing_a_required_claim_is_refused(api, missing):
    user = make_user()
    claims = claims_for(user)
    del claims[missing]

    assert_refused(myself(api, f"Bearer {signed(claims)}"))


def test_token_of_an_unknown_user_is_refused(api):
    user = make_user()

    assert_refused(myself(api, f"Bearer {signed(claims_for(user, sub='no-such-user'))}"))


def test_role_claim_is_not_trusted_over_the_stored_role(api):
    user = make_user("reseller")
    forged_role = signed(claims_for(user, role="admin"))

    response = api.get("/users", headers={"Authorization": f"Bearer {forged_role}"})

    assert response.status_code == 403


def test_token_of_a_blocked_user_is_refused(api):
    user = make_user()
    token = token_for(user)
    api.put(f"/users/{user.id}", {"blocked": True}, as_=admin_user())

    assert_refused(myself(api, f"Bearer {token}"))


def test_token_of_a_deleted_user_is_refused(api):
    user = make_user()
    token = token_for(user)
    assert api.delete(f"/users/{user.id}", as_=admin_user()).status_code == 204

    assert_refused(myself(api, f"Bearer {token}"))


def test_token_issued_before_a_password_change_is_refused(api):
    user = make_user()
    old = token_for(user)
    change = api.put(
        "/myself",
        {"password": "a-brand-new-password", "current_password": "Corr3ct-Horse-Battery"},
        as_=old,
    )
    assert change.status_code == 200

    assert_refused(myself(api, f"Bearer {old}"))


def test_token_issued_before_a_role_change_is_refused(api):
    user = make_user("reseller")
    old = token_for(user)
    api.put(f"/users/{user.id}", {"role": "organizer"}, as_=admin_user())

    assert_refused(api.get("/myself", headers=bearer(old)))


def _future() -> int:
    return int((utcnow() + timedelta(minutes=5)).timestamp())


@pytest.mark.parametrize(
    "overrides",
    [
        {"sub": ""},  # once reached DynamoDB as an empty key: a 500
        {"sub": "x" * 201},
        {"sub": "a\x00b"},
        {"sub": 42},
        {"sub": ["list"]},
        {"exp": "EXP"},  # pyjwt checks values, not types: replaced per test below
        {"iat": "IAT"},
        {"ver": False},  # bool is an int to Python
        {"ver": "0"},
        {"ver": 0.0},
        {"role": 7},
    ],
)
def test_signed_tokens_with_claims_of_the_wrong_type_are_refused(api, overrides):
    user = make_user()
    overrides = dict(overrides)
    if overrides.get("exp") == "EXP":
        overrides["exp"] = str(_future())  # a string pyjwt would accept as a time
    if overrides.get("iat") == "IAT":
        overrides["iat"] = str(int(utcnow().timestamp()))
    token = signed({**claims_for(user), **overrides})

    assert_refused(myself(api, f"Bearer {token}"))
    # Routes open to anonymous callers verify an optional token with the same code.
    booking = api.post(
        "/sold-tickets",
        {"event_id": make_event(), "buyer": buyer_body()},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert booking.status_code == 401
