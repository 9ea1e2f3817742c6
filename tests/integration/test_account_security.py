"""Accounts attacked over real HTTP against the local stack: takeover before verification,
password reset, operators' unblock, foreign GitHub tokens, admin by social sign-in, and the
abuse limits (on `limited_stack`, which runs with them on)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests

from chalicelib.settings import LOCAL_ADMIN_EMAIL, LOCAL_ADMIN_PASSWORD
from devstack.harness import PROJECT_DIR
from devstack.run import stack_environment
from tests.integration.test_accounts_flow import (
    create_verified_user,
    emailed_link,
    get,
    login,
    new_email,
    password_checks,
    post,
)

pytestmark = pytest.mark.integration


def test_a_stranger_cannot_take_over_an_unverified_account(local_stack):
    email = new_email("owner")
    owner = post(
        local_stack, "/register", {"email": email, "password": "owners-pass", "role": "organizer"}
    )

    stranger = post(
        local_stack, "/register", {"email": email, "password": "strangers-pass", "role": "reseller"}
    )
    clicked = requests.get(emailed_link(local_stack, email), timeout=10)

    assert owner.status_code == 201
    assert (stranger.status_code, stranger.json()["error"]) == (409, "User already exists.")
    assert clicked.status_code == 200
    assert login(local_stack, email, "strangers-pass").status_code == 401
    me = login(local_stack, email, "owners-pass")
    assert me.status_code == 200
    profile = get(local_stack, "/myself", token=me.json()["auth_token"]).json()
    assert profile["role"] == "organizer"


def test_forgotten_password_reset_through_the_emailed_page(local_stack):
    _, email, password = create_verified_user(local_stack)
    session = login(local_stack, email, password).json()["auth_token"]

    asked = post(local_stack, "/forgot-password", {"email": email})
    link = emailed_link(local_stack, email, "reset-password")
    page = requests.get(link, timeout=10)
    token = link.rsplit("/", 1)[1]
    submitted = requests.post(
        f"{local_stack.api_url}/reset-password",
        data={"token": token, "password": "my-new-passphrase"},
        timeout=10,
    )
    reused = post(local_stack, "/reset-password", {"token": token, "password": "another-one1"})

    assert asked.status_code == 202
    assert page.status_code == 200 and "<form" in page.text
    assert submitted.status_code == 200 and "Password changed" in submitted.text
    assert (reused.status_code, reused.json()["code"]) == (400, "invalid_reset_link")
    assert login(local_stack, email, password).status_code == 401
    assert login(local_stack, email, "my-new-passphrase").status_code == 200
    assert get(local_stack, "/myself", token=session).status_code in (401, 403)
    assert link in local_stack.log()  # local mode prints emailed links


def test_operators_unblock_the_only_admin_with_the_setup_step(local_stack):
    for _ in range(3):
        login(local_stack, LOCAL_ADMIN_EMAIL, "a-wrong-guess")
    locked_out = login(local_stack, LOCAL_ADMIN_EMAIL, LOCAL_ADMIN_PASSWORD)
    env = stack_environment(
        {"PATH": os.environ["PATH"], "AWS_ENDPOINT_URL": local_stack.emulator_url}
    )

    result = subprocess.run(
        [sys.executable, "-m", "chalicelib.bootstrap", "unblock", LOCAL_ADMIN_EMAIL],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (locked_out.status_code, locked_out.json()["error"]) == (403, "Account blocked.")
    assert result.returncode == 0, result.stderr
    assert "unblocked" in result.stdout
    assert login(local_stack, LOCAL_ADMIN_EMAIL, LOCAL_ADMIN_PASSWORD).status_code == 200


def test_a_github_token_issued_to_another_app_is_refused(local_stack, fake_providers):
    _, email, _ = create_verified_user(local_stack)
    token = fake_providers.personal_access_token(subject=991, email=email)

    response = post(local_stack, "/auth/github", {"access_token": token})

    assert (response.status_code, response.json()["code"]) == (401, "invalid_provider_token")


def test_a_github_token_of_our_app_signs_in(local_stack, fake_providers):
    step_1 = requests.get(f"{local_stack.api_url}/github-device-auth-step-1", timeout=10)
    code = step_1.json()["device_code"]
    email = new_email("octo")
    fake_providers.approve(code, subject=992, email=email)

    response = post(local_stack, "/auth/github", {"access_token": f"token-{code}"})

    assert response.status_code == 200, response.text


def test_social_sign_in_with_the_admins_email_is_refused(local_stack, fake_providers):
    id_token = fake_providers.id_token({"id": "g-admin", "email": LOCAL_ADMIN_EMAIL})

    response = post(local_stack, "/auth/google", {"id_token": id_token})

    assert (response.status_code, response.json()["code"]) == (403, "admin_requires_password")


# --- with the abuse limits on ---------------------------------------------------------


def registered_and_verified(stack):
    """A verified account made through the emailed link: no admin login spends the allowance."""
    email, password = new_email("limited"), "password1"
    registered = post(
        stack, "/register", {"email": email, "password": password, "role": "organizer"}
    )
    assert registered.status_code == 201, registered.text
    assert requests.get(emailed_link(stack, email), timeout=10).status_code == 200
    return registered.json()["user_id"], email, password


def test_logins_past_the_address_limit_are_429_and_check_no_password(limited_stack):
    user_id, email, password = registered_and_verified(limited_stack)

    # 13 = twice the limit of 6 a minute, plus one: past it even if a minute ends meanwhile.
    answers = [login(limited_stack, email, password) for _ in range(13)]

    statuses = [a.status_code for a in answers]
    assert set(statuses) == {200, 429}, statuses
    for refused in (a for a in answers if a.status_code == 429):
        assert refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert password_checks(limited_stack, user_id) == statuses.count(200)  # none past a limit


def test_reset_requests_past_the_email_limit_are_429_and_send_nothing(limited_stack):
    _, email, _ = registered_and_verified(limited_stack)

    # 5 = twice the limit of 2 an hour, plus one (an hour may end meanwhile).
    answers = [post(limited_stack, "/forgot-password", {"email": email}) for _ in range(5)]
    emailed_link(limited_stack, email, "reset-password")  # sent by the stream, within a second
    time.sleep(2)  # time for any further (wrong) one
    sent = requests.get(f"{limited_stack.emulator_url}/_devstack/sent-emails", timeout=5).json()
    resets = [m for m in sent["emails"] if email in m["to"] and "reset" in m["subject"].lower()]

    statuses = [a.status_code for a in answers]
    assert statuses[:2] == [202, 202] and 429 in statuses, statuses
    refused = answers[statuses.index(429)]
    assert refused.json()["code"] == "rate_limited"
    assert "Retry-After" in refused.headers
    assert 1 <= len(resets) <= statuses.count(202)  # nothing sent for a refused request
