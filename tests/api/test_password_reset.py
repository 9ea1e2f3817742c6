"""POST /forgot-password, GET /reset-password/{token}, POST /reset-password."""

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from chalicelib.db.base import utcnow
from chalicelib.db.link_tokens import RESET_PASSWORD, LinkToken
from chalicelib.db.users import User
from tests.conftest import DEFAULT_PASSWORD, admin_user, make_user, sent_emails

LINK = re.compile(r"http://api\.test/reset-password/([A-Za-z0-9_-]+)")
NEW_PASSWORD = "a-brand-new-passphrase"
ACCEPTED = {"message": "If that account exists, a link to reset its password is on its way."}


def reset_links(email):
    return [
        LINK.search(m.body).group(1) for m in sent_emails() if email in m.to and LINK.search(m.body)
    ]


def forgot(api, email):
    return api.post("/forgot-password", {"email": email})


def reset(api, token, password=NEW_PASSWORD):
    return api.post("/reset-password", {"token": token, "password": password})


def login(api, email, password):
    return api.post("/login", {"email": email, "password": password})


def test_a_known_account_gets_a_single_use_link_and_the_answer_says_nothing(api):
    user = make_user()

    known = forgot(api, user.email)
    unknown = forgot(api, "nobody@example.com")

    assert (known.status_code, known.json_body) == (202, ACCEPTED)
    assert (unknown.status_code, unknown.json_body) == (202, ACCEPTED)
    [token] = reset_links(user.email)
    assert len(token) >= 43  # 256 random bits
    assert reset_links("nobody@example.com") == []
    [record] = [r for r in LinkToken.scan() if r.purpose == RESET_PASSWORD]
    assert record.token_hash != token  # only the hash is stored
    assert timedelta(minutes=59) < record.expires_at - utcnow() <= timedelta(hours=1)


def test_the_full_flow_changes_the_password_and_ends_old_sessions(api):
    user = make_user()
    old_session = login(api, user.email, DEFAULT_PASSWORD).json_body["auth_token"]
    forgot(api, user.email)
    [token] = reset_links(user.email)

    page = api.get(f"/reset-password/{token}")
    done = reset(api, token)

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert f'value="{token}"' in page.body.decode()
    assert 'action="http://api.test/reset-password"' in page.body.decode()
    assert done.status_code == 200
    assert login(api, user.email, DEFAULT_PASSWORD).status_code == 401
    assert login(api, user.email, NEW_PASSWORD).status_code == 200
    me = api.get("/myself", headers={"Authorization": f"Bearer {old_session}"})
    assert me.status_code in (401, 403)


def test_a_link_works_once(api):
    user = make_user()
    forgot(api, user.email)
    [token] = reset_links(user.email)
    reset(api, token)

    again = reset(api, token, "yet-another-password")

    assert (again.status_code, again.json_body["code"]) == (400, "invalid_reset_link")
    assert api.get(f"/reset-password/{token}").status_code == 400
    assert login(api, user.email, NEW_PASSWORD).status_code == 200


def test_a_newer_link_replaces_the_older_one(api):
    user = make_user()
    forgot(api, user.email)
    forgot(api, user.email)
    older, newer = reset_links(user.email)

    assert reset(api, older).json_body["code"] == "invalid_reset_link"
    assert reset(api, newer).status_code == 200


def test_an_expired_link_is_refused(api):
    user = make_user()
    forgot(api, user.email)
    [token] = reset_links(user.email)
    for record in LinkToken.scan():
        record.update(actions=[LinkToken.expires_at.set(utcnow() - timedelta(seconds=1))])

    assert reset(api, token).json_body["code"] == "invalid_reset_link"
    assert login(api, user.email, DEFAULT_PASSWORD).status_code == 200


@pytest.mark.parametrize("token", ["forged", "A" * 43, "x" * 4096])
def test_forged_tokens_are_refused(api, token):
    response = reset(api, token)

    assert (response.status_code, response.json_body["code"]) == (400, "invalid_reset_link")


def test_a_verification_link_is_no_reset_link(api):
    registered = api.post(
        "/register", {"email": "new@example.com", "password": "password1", "role": "organizer"}
    )
    body = next(m.body for m in sent_emails() if "new@example.com" in m.to)
    verification = re.search(r"/activate/([A-Za-z0-9_-]+)", body).group(1)

    assert registered.status_code == 201
    assert reset(api, verification).json_body["code"] == "invalid_reset_link"


def test_resetting_verifies_the_email_and_clears_the_failure_count(api):
    user = make_user(verified=False)
    User.get(user.id).update(actions=[User.failed_logins.set(2)])
    forgot(api, user.email)
    [token] = reset_links(user.email)

    reset(api, token)

    stored = User.get(user.id)
    assert stored.verified and stored.failed_logins == 0
    assert stored.verification_token_hash is None
    assert login(api, user.email, NEW_PASSWORD).status_code == 200


def test_a_blocked_account_gets_no_link_and_a_reset_does_not_unblock_it(api):
    user = make_user()
    forgot(api, user.email)
    [token] = reset_links(user.email)
    api.put(f"/users/{user.id}", {"blocked": True}, as_=admin_user())

    again = forgot(api, user.email)
    done = reset(api, token)

    assert (again.status_code, again.json_body) == (202, ACCEPTED)
    assert reset_links(user.email) == [token]  # nothing new went out
    assert done.status_code == 200
    assert User.get(user.id).blocked
    blocked = login(api, user.email, NEW_PASSWORD)
    assert (blocked.status_code, blocked.json_body["error"]) == (403, "Account blocked.")


def test_a_too_short_password_is_a_400_and_the_link_still_works(api):
    user = make_user()
    forgot(api, user.email)
    [token] = reset_links(user.email)

    short = reset(api, token, "short")

    assert short.status_code == 400
    assert "password" in short.json_body["details"]
    assert reset(api, token).status_code == 200


def test_the_html_form_posts_and_gets_a_page_back(api):
    user = make_user()
    forgot(api, user.email)
    [token] = reset_links(user.email)
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    short = api.http.post(
        "/reset-password", body=urlencode({"token": token, "password": "x"}), headers=form
    )
    done = api.http.post(
        "/reset-password", body=urlencode({"token": token, "password": NEW_PASSWORD}), headers=form
    )
    reused = api.http.post(
        "/reset-password", body=urlencode({"token": token, "password": NEW_PASSWORD}), headers=form
    )

    assert short.status_code == 400 and b"Password not changed" in short.body
    assert done.status_code == 200 and b"Password changed" in done.body
    assert done.headers["Content-Type"].startswith("text/html")
    assert reused.status_code == 400 and b"invalid" in reused.body
    assert login(api, user.email, NEW_PASSWORD).status_code == 200


def test_an_emailed_link_page_for_a_bad_token_is_a_400_page(api):
    response = api.get("/reset-password/not-a-token")

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Referrer-Policy"] == "no-referrer"
