"""Sign-in with Google and GitHub, against faked provider endpoints (responses)."""

import base64
import dataclasses
import json
import time

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.db.uniques import UniqueClaim
from chalicelib.db.users import User
from chalicelib.oauth import google
from chalicelib.services.accounts import social
from chalicelib.settings import get_settings
from tests.conftest import DEFAULT_PASSWORD, TEST_ENV, admin_user, make_user

GOOGLE_DEVICE = "https://oauth2.googleapis.com/device/code"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
GOOGLE_JWKS = "https://www.googleapis.com/oauth2/v3/certs"
GITHUB_DEVICE = "https://github.com/login/device/code"
GITHUB_TOKEN = "https://github.com/login/oauth/access_token"
GITHUB_API = "https://api.github.com"
CLIENT_ID = TEST_ENV["GOOGLE_CLIENT_ID"]

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def provider(monkeypatch):
    monkeypatch.setattr(google, "_signing_keys", google._SigningKeys())
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_KEY.public_key()))
        mock.get(GOOGLE_JWKS, json={"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]})
        yield mock


def id_token(sub="g-123", email="person@gmail.com", verified=True, key=_KEY, **overrides):
    now = int(time.time())
    claims = {
        "iss": "https://accounts.google.com",
        "aud": CLIENT_ID,
        "sub": sub,
        "email": email,
        "email_verified": verified,
        "name": "Google Person",
        "iat": now,
        "exp": now + 600,
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


GITHUB_APP_CHECK = f"{GITHUB_API}/applications/{TEST_ENV['GITHUB_CLIENT_ID']}/token"


def github_app_check(mock, token="gh-token", ours=True):
    """GitHub's answer to "was this token issued to our app?", asked with our credentials."""
    credentials = f"{TEST_ENV['GITHUB_CLIENT_ID']}:{TEST_ENV['GITHUB_CLIENT_SECRET']}"
    basic = base64.b64encode(credentials.encode()).decode()
    mock.post(
        GITHUB_APP_CHECK,
        status=200 if ours else 404,
        json={"token": token} if ours else {"message": "Not Found"},
        match=[
            responses.matchers.header_matcher({"Authorization": f"Basic {basic}"}),
            responses.matchers.json_params_matcher({"access_token": token}),
        ],
    )


def github_user(
    mock, user_id=42, email="octo@example.com", verified=True, token="gh-token", ours=True
):
    github_app_check(mock, token, ours)
    auth = responses.matchers.header_matcher({"Authorization": f"Bearer {token}"})
    mock.get(
        f"{GITHUB_API}/user",
        json={"id": user_id, "login": "octo", "name": "Octo Cat"},
        match=[auth],
    )
    mock.get(
        f"{GITHUB_API}/user/emails",
        json=[
            {"email": "old@example.com", "primary": False, "verified": True},
            {"email": email, "primary": True, "verified": verified},
        ],
        match=[auth],
    )


def me(api, token):
    return api.get("/myself", headers={"Authorization": f"Bearer {token}"})


# --- Google ----------------------------------------------------------------------------


def test_google_device_flow_step_one_asks_google_for_a_code(api, provider):
    provider.post(
        GOOGLE_DEVICE,
        json={
            "device_code": "AH-1Ng2",
            "user_code": "CPWY-AAAA",
            "verification_url": "https://www.google.com/device",
            "expires_in": 1800,
            "interval": 5,
        },
        match=[responses.matchers.urlencoded_params_matcher(
            {"client_id": CLIENT_ID, "scope": "openid email profile"}
        )],
    )  # fmt: skip

    response = api.get("/google-device-auth-step-1")

    assert response.status_code == 200
    assert response.json_body == {
        "device_code": "AH-1Ng2",
        "user_code": "CPWY-AAAA",
        "verification_url": "https://www.google.com/device",
        "expires_in": 1800,
        "interval": 5,
    }


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (428, "authorization_pending"),
        (400, "slow_down"),
        (400, "expired_token"),
        (403, "access_denied"),
    ],
)
def test_google_device_flow_states_are_400s_with_their_code(api, provider, status, error):
    provider.post(GOOGLE_TOKEN, status=status, json={"error": error})

    response = api.post("/google-device-auth-step-2", {"device_code": "AH-1Ng2"})

    assert response.status_code == 400
    assert response.json_body["code"] == error
    assert User.count() == 1


def test_google_device_flow_signs_in_a_new_verified_user_without_role(api, provider):
    provider.post(GOOGLE_TOKEN, json={"access_token": "ya29", "id_token": id_token()})

    response = api.post("/google-device-auth-step-2", {"device_code": "AH-1Ng2"})

    assert response.status_code == 200
    assert response.json_body["token_type"] == "Bearer"
    profile = me(api, response.json_body["auth_token"]).json_body
    assert (profile["email"], profile["provider"], profile["role"], profile["verified"]) == (
        "person@gmail.com",
        "google",
        None,
        True,
    )


def test_the_same_google_identity_is_the_same_user_next_time(api, provider):
    first = api.post("/auth/google", {"id_token": id_token()})
    second = api.post("/auth/google", {"id_token": id_token(email="renamed@gmail.com")})

    ids = {me(api, r.json_body["auth_token"]).json_body["id"] for r in (first, second)}
    assert len(ids) == 1
    assert User.count() == 2  # admin + this person


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(id_token(key=_OTHER_KEY), id="forged-signature"),
        pytest.param(id_token(exp=int(time.time()) - 10, iat=int(time.time()) - 700), id="expired"),
        pytest.param(id_token(aud="someone-else"), id="wrong-audience"),
        pytest.param(id_token(iss="https://evil.example"), id="wrong-issuer"),
        pytest.param("not-a-jwt", id="garbage"),
        pytest.param(
            jwt.encode({"sub": "x"}, "s" * 32, algorithm="HS256", headers={"kid": "k1"}), id="hs256"
        ),
    ],
)
def test_bad_google_id_tokens_are_refused(api, provider, token):
    response = api.post("/auth/google", {"id_token": token})

    assert response.status_code == 401
    assert response.json_body["code"] == "invalid_provider_token"
    assert User.count() == 1


def test_google_account_without_verified_email_is_refused(api, provider):
    response = api.post("/auth/google", {"id_token": id_token(verified=False)})

    assert response.status_code == 403
    assert User.count() == 1


# --- GitHub ----------------------------------------------------------------------------


def test_github_step_one_normalises_verification_uri(api, provider):
    provider.post(
        GITHUB_DEVICE,
        json={
            "device_code": "3584d83",
            "user_code": "WDJB-MJHT",
            "verification_uri": "https://github.com/login/device",
            "expires_in": 900,
            "interval": 5,
        },
    )

    response = api.get("/github-device-auth-step-1")

    assert response.status_code == 200
    assert response.json_body["verification_url"] == "https://github.com/login/device"
    assert "verification_uri" not in response.json_body


@pytest.mark.parametrize(
    "error", ["authorization_pending", "slow_down", "expired_token", "access_denied"]
)
def test_github_device_flow_states_are_400s_with_their_code(api, provider, error):
    provider.post(GITHUB_TOKEN, json={"error": error, "error_description": "..."})

    response = api.post("/github-device-auth-step-2", {"device_code": "3584d83"})

    assert (response.status_code, response.json_body["code"]) == (400, error)


def test_github_device_flow_signs_in_with_the_primary_verified_email(api, provider):
    provider.post(GITHUB_TOKEN, json={"access_token": "gh-token", "token_type": "bearer"})
    github_user(provider)

    response = api.post("/github-device-auth-step-2", {"device_code": "3584d83"})

    assert response.status_code == 200
    profile = me(api, response.json_body["auth_token"]).json_body
    assert (profile["email"], profile["provider"], profile["name"]) == (
        "octo@example.com",
        "github",
        "Octo Cat",
    )


def test_a_github_token_github_rejects_is_a_401(api, provider):
    github_app_check(provider, "revoked", ours=True)
    provider.get(f"{GITHUB_API}/user", status=401, json={"message": "Bad credentials"})

    response = api.post("/auth/github", {"access_token": "revoked"})

    assert (response.status_code, response.json_body["code"]) == (401, "invalid_provider_token")


def test_github_without_a_verified_primary_email_is_refused(api, provider):
    github_user(provider, verified=False)

    assert api.post("/auth/github", {"access_token": "gh-token"}).status_code == 403
    assert User.count() == 1


def test_a_github_token_not_issued_to_our_app_is_a_401_and_links_nothing(api, provider):
    existing = make_user("organizer", email="octo@example.com")
    github_user(provider, token="ghp_personal", ours=False)

    response = api.post("/auth/github", {"access_token": "ghp_personal"})

    assert (response.status_code, response.json_body["code"]) == (401, "invalid_provider_token")
    assert User.count() == 2  # the admin and the existing account, unchanged
    assert User.get(existing.id).attribute_values == existing.attribute_values
    assert not [c for c in provider.calls if c.request.url.startswith(f"{GITHUB_API}/user")]


def test_github_refusing_our_client_credentials_is_a_502(api, provider):
    provider.post(GITHUB_APP_CHECK, status=401, json={"message": "Requires authentication"})

    response = api.post("/auth/github", {"access_token": "gh-token"})

    assert (response.status_code, response.json_body["code"]) == (502, "provider_unavailable")


def test_github_token_exchange_without_the_client_secret_is_a_503(api, provider, monkeypatch):
    no_secret = dataclasses.replace(get_settings(), github_client_secret=None)
    monkeypatch.setattr(social, "get_settings", lambda: no_secret)

    response = api.post("/auth/github", {"access_token": "gh-token"})

    assert (response.status_code, response.json_body["code"]) == (503, "provider_not_configured")
    assert len(provider.calls) == 0


def test_github_device_flow_needs_only_the_client_id(api, provider, monkeypatch):
    no_secret = dataclasses.replace(get_settings(), github_client_secret=None)
    monkeypatch.setattr(social, "get_settings", lambda: no_secret)
    provider.post(GITHUB_TOKEN, json={"access_token": "gh-token", "token_type": "bearer"})
    github_user(provider)

    response = api.post("/github-device-auth-step-2", {"device_code": "3584d83"})

    assert response.status_code == 200, response.json_body
    assert not [c for c in provider.calls if c.request.url == GITHUB_APP_CHECK]


def test_social_sign_in_never_reaches_an_admin_account(api, provider):
    admin = admin_user()
    github_user(provider, email=admin.email)

    by_google = api.post("/auth/google", {"id_token": id_token(email=admin.email)})
    by_github = api.post("/auth/github", {"access_token": "gh-token"})

    for response in (by_google, by_github):
        assert (response.status_code, response.json_body["code"]) == (
            403,
            "admin_requires_password",
        )
    assert User.get(admin.id).attribute_values == admin.attribute_values
    assert not [c for c in UniqueClaim.scan() if c.key.startswith("identity:")]


def test_an_identity_already_linked_to_an_account_made_admin_is_refused(api, provider):
    token = api.post("/auth/google", {"id_token": id_token()}).json_body["auth_token"]
    user_id = me(api, token).json_body["id"]
    User.get(user_id).update(actions=[User.role.set("admin")])  # e.g. by the setup step

    response = api.post("/auth/google", {"id_token": id_token()})

    assert (response.status_code, response.json_body["code"]) == (403, "admin_requires_password")


# --- linking, roles, blocking ------------------------------------------------------------


def test_a_verified_provider_email_links_to_the_existing_account(api, provider):
    existing = make_user("organizer", email="person@gmail.com")

    response = api.post("/auth/google", {"id_token": id_token()})

    profile = me(api, response.json_body["auth_token"]).json_body
    assert (profile["id"], profile["role"], profile["provider"]) == (
        existing.id,
        "organizer",
        "email",
    )
    assert User.count() == 2
    password = api.post("/login", {"email": "person@gmail.com", "password": DEFAULT_PASSWORD})
    assert password.status_code == 200


def test_linking_an_unverified_account_drops_the_password_nobody_proved(api, provider):
    squatter = make_user("reseller", email="person@gmail.com", verified=False)

    response = api.post("/auth/google", {"id_token": id_token()})

    assert me(api, response.json_body["auth_token"]).json_body["id"] == squatter.id
    stored = User.get(squatter.id)
    assert stored.verified and stored.password_hash is None
    squatter_login = api.post("/login", {"email": "person@gmail.com", "password": DEFAULT_PASSWORD})
    assert squatter_login.status_code == 401


def test_a_social_user_picks_a_role_once_and_can_then_act_in_it(api, provider):
    token = api.post("/auth/google", {"id_token": id_token()}).json_body["auth_token"]

    before = api.get("/allocations", headers={"Authorization": f"Bearer {token}"})
    chosen = api.put("/myself", {"role": "reseller"}, as_=token)
    token = api.post("/auth/google", {"id_token": id_token()}).json_body["auth_token"]
    again = api.put("/myself", {"role": "organizer"}, as_=token)
    after = api.get("/allocations", headers={"Authorization": f"Bearer {token}"})

    assert before.status_code == 403
    assert chosen.json_body["role"] == "reseller"
    assert again.status_code == 409
    assert after.status_code == 200


def test_a_blocked_social_user_cannot_sign_in_through_the_provider(api, provider):
    token = api.post("/auth/google", {"id_token": id_token()}).json_body["auth_token"]
    user_id = me(api, token).json_body["id"]
    api.put(f"/users/{user_id}", {"blocked": True}, as_=admin_user())

    response = api.post("/auth/google", {"id_token": id_token()})

    assert (response.status_code, response.json_body["error"]) == (403, "Account blocked.")
    assert me(api, token).status_code in (401, 403)


# --- provider trouble and configuration --------------------------------------------------


def test_provider_errors_and_network_failures_are_502(api, provider):
    provider.post(GOOGLE_DEVICE, status=503, body="busy")
    provider.post(GITHUB_DEVICE, body=requests.ConnectionError("unreachable"))

    assert api.get("/google-device-auth-step-1").status_code == 502
    github = api.get("/github-device-auth-step-1")
    assert (github.status_code, github.json_body["code"]) == (502, "provider_unavailable")


def test_a_provider_without_client_configuration_answers_503(api, provider, monkeypatch):
    unconfigured = dataclasses.replace(get_settings(), google_client_id=None, github_client_id=None)
    monkeypatch.setattr(social, "get_settings", lambda: unconfigured)

    for path in ("/google-device-auth-step-1", "/github-device-auth-step-1"):
        response = api.get(path)
        assert (response.status_code, response.json_body["code"]) == (
            503,
            "provider_not_configured",
        )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/google-device-auth-step-2", {}),
        ("/github-device-auth-step-2", {"device_code": ""}),
        ("/auth/google", {"token": "x"}),
        ("/auth/github", {"access_token": 5}),
    ],
)
def test_malformed_sign_in_bodies_are_400s(api, provider, path, body):
    assert api.post(path, body).status_code == 400


def test_provider_timeouts_are_bounded(monkeypatch):
    from chalicelib.oauth import base

    seen = {}

    def fake_request(method, url, **kwargs):
        seen.update(kwargs)
        raise requests.Timeout("slow")

    monkeypatch.setattr(requests, "request", fake_request)

    with pytest.raises(base.ProviderUnavailable):
        base.call("GET", "https://example.com")
    assert seen["timeout"] == 5


def test_settings_refuse_plain_http_provider_urls_outside_the_local_stack():
    from chalicelib.settings import SettingsError, load_settings

    env = {
        "STAGE": "prod",
        "APP_URL": "https://x",
        "JWT_SECRET": "s" * 32,
        "SES_SENDER": "a@b.c",
        "GITHUB_API_URL": "http://api.github.local",
    }
    with pytest.raises(SettingsError, match="GITHUB_API_URL"):
        load_settings(env)
    with pytest.raises(SettingsError, match="GITHUB_API_URL"):
        load_settings({**env, "STAGE": "dev"})
    local = {**env, "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}
    assert load_settings(local).github_api_url == "http://api.github.local"


def test_tokens_must_be_printable_ascii(api, provider):
    response = api.post("/auth/github", {"access_token": "t\U000251e3ken"})

    assert response.status_code == 400
    assert "access_token" in response.json_body["details"]
