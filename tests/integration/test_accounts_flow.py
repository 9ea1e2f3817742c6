"""Accounts over real HTTP against the local stack: the README flow and the races."""

from __future__ import annotations

import json
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from chalicelib.settings import LOCAL_ADMIN_EMAIL, LOCAL_ADMIN_PASSWORD

pytestmark = pytest.mark.integration


def post(stack, path, body, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(f"{stack.api_url}{path}", json=body, headers=headers, timeout=30)


def get(stack, path, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{stack.api_url}{path}", headers=headers, timeout=30)


def login(stack, email, password):
    return post(stack, "/login", {"email": email, "password": password})


def admin_token(stack):
    return login(stack, LOCAL_ADMIN_EMAIL, LOCAL_ADMIN_PASSWORD).json()["auth_token"]


def new_email(prefix="it"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def wait_for_email(stack, email, subject_part="", timeout_s=10.0):
    """The newest email to `email` whose subject contains `subject_part`, once the stack's
    event stream consumer has sent it (it polls the stream a few times a second)."""
    deadline = time.monotonic() + timeout_s
    while True:
        emails = requests.get(f"{stack.emulator_url}/_devstack/sent-emails", timeout=5).json()
        found = [m for m in emails["emails"] if email in m["to"] and subject_part in m["subject"]]
        if found:
            return found[-1]
        assert time.monotonic() < deadline, f"no email {subject_part!r} to {email} in {timeout_s} s"
        time.sleep(0.1)


def emailed_link(stack, email, kind="activate", *, at_least=1, timeout_s=10.0):
    """The newest link of this kind the local stack emailed to `email`, once `at_least` such
    links went out (links asked for by address are sent by the event stream, within a second)."""
    deadline = time.monotonic() + timeout_s
    while True:
        emails = requests.get(f"{stack.emulator_url}/_devstack/sent-emails", timeout=5).json()
        links = [
            found.group(0)
            for m in emails["emails"]
            if email in m["to"]
            for found in [re.search(rf"https?://[^\s\"<>]+/{kind}/[A-Za-z0-9_-]+", m["body"])]
            if found
        ]
        if len(links) >= at_least:
            return links[-1]
        assert time.monotonic() < deadline, f"no {kind} link was emailed to {email}"
        time.sleep(0.1)


def activation_link(stack, email):
    return emailed_link(stack, email, "activate")


def create_verified_user(stack, role="organizer"):
    email, password = new_email(role), "password1"
    response = post(
        stack,
        "/users",
        {"email": email, "password": password, "name": role.title(), "role": role},
        token=admin_token(stack),
    )
    assert response.status_code == 201, response.text
    return response.json()["user"]["id"], email, password


def test_readme_flow_register_click_the_emailed_link_log_in_and_call(local_stack):
    email = new_email("me")

    registered = post(
        local_stack,
        "/register",
        {"email": email, "password": "password1", "name": "ME", "role": "organizer"},
    )
    before = login(local_stack, email, "password1")
    link = activation_link(local_stack, email)
    page = requests.get(link, timeout=10)
    logged_in = login(local_stack, email, "password1")
    me = get(local_stack, "/myself", token=logged_in.json()["auth_token"])

    assert registered.status_code == 201
    assert before.status_code == 403
    assert before.json()["error"] == "Account not verified."
    assert link.startswith(f"{local_stack.api_url}/activate/")
    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assert logged_in.status_code == 200
    assert me.status_code == 200
    assert (me.json()["email"], me.json()["role"], me.json()["verified"]) == (
        email,
        "organizer",
        True,
    )
    assert link in local_stack.log()  # local mode prints every email's links


def test_parallel_registrations_of_one_email_create_one_account(local_stack):
    email = new_email("race")
    body = {"email": email, "password": "password1", "role": "reseller"}

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: post(local_stack, "/register", body), range(10)))

    assert all(r.status_code in (201, 409) for r in responses), [r.text for r in responses]
    user_ids = {r.json()["user_id"] for r in responses if r.status_code == 201}
    assert len(user_ids) == 1
    listed = get(local_stack, "/users?role=reseller&limit=200", token=admin_token(local_stack))
    assert [u["email"] for u in listed.json()["users"]].count(email) == 1


def password_checks(stack, user_id):
    checks = 0
    for line in stack.log().splitlines():
        if '"password_checked"' in line:
            event = json.loads(line[line.index("{") :])
            checks += event["user_id"] == user_id
    return checks


def test_parallel_right_logins_never_block_and_parallel_wrong_ones_get_three_checks(local_stack):
    """Both halves of the lockout rule in one run (the stack runs with RATE_LIMITS=off)."""
    user_id, email, password = create_verified_user(local_stack, "reseller")

    with ThreadPoolExecutor(max_workers=16) as pool:
        rounds = [list(pool.map(lambda _: login(local_stack, email, password), range(16)))
                  for _ in range(3)]  # fmt: skip
    right = [r for answers in rounds for r in answers]

    assert {r.status_code for r in right} <= {200, 429}, [r.text for r in right]
    assert any(r.status_code == 200 for r in right)
    for refused in (r for r in right if r.status_code == 429):
        assert refused.json()["code"] == "too_many_attempts"
        assert int(refused.headers["Retry-After"]) >= 1
    admin = admin_token(local_stack)
    stored = get(local_stack, f"/users/{user_id}", token=admin).json()["user"]
    assert stored["blocked"] is False
    checks_before = password_checks(local_stack, user_id)

    with ThreadPoolExecutor(max_workers=16) as pool:
        wrong = list(pool.map(lambda _: login(local_stack, email, "wrong-password"), range(50)))

    statuses = [r.status_code for r in wrong]
    assert set(statuses) <= {401, 403, 429}
    assert statuses.count(401) <= 3
    assert password_checks(local_stack, user_id) - checks_before <= 3
    blocked = login(local_stack, email, password)
    assert (blocked.status_code, blocked.json()["error"]) == (403, "Account blocked.")
    assert password_checks(local_stack, user_id) - checks_before <= 3

    unblocked = requests.put(
        f"{local_stack.api_url}/users/{user_id}",
        json={"blocked": False},
        headers={"Authorization": f"Bearer {admin}"},
        timeout=10,
    )
    assert unblocked.status_code == 200
    assert login(local_stack, email, password).status_code == 200


def test_parallel_callers_each_see_only_their_own_identity(local_stack):
    users = [create_verified_user(local_stack, role) for role in ("organizer", "reseller") * 3]
    tokens = {
        user_id: login(local_stack, email, password).json()["auth_token"]
        for user_id, email, password in users
    }

    def whoami(user_id):
        return user_id, get(local_stack, "/myself", token=tokens[user_id]).json()["id"]

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(whoami, list(tokens) * 10))

    assert [(asked, got) for asked, got in answers if asked != got] == []
