"""POST /login and the lockout rule."""

import pytest
from passlib.context import CryptContext

from chalicelib.db.users import User
from tests.conftest import DEFAULT_PASSWORD, admin_user, make_user, sent_emails

WRONG = {"error": "Wrong username or password.", "code": "wrong_credentials"}
BLOCKED = {"error": "Account blocked.", "code": "account_blocked"}


def login(api, email, password=DEFAULT_PASSWORD):
    return api.post("/login", {"email": email, "password": password})


def test_login_returns_a_bearer_token_that_works(api):
    user = make_user("reseller")

    response = login(api, user.email)

    assert response.status_code == 200
    body = response.json_body
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 1800
    me = api.get("/myself", headers={"Authorization": f"Bearer {body['auth_token']}"})
    assert me.status_code == 200
    assert me.json_body["id"] == user.id


def test_login_email_is_case_insensitive(api):
    user = make_user(email="someone@example.com")

    assert login(api, "SomeOne@Example.com ").status_code == 200
    assert User.get(user.id).failed_logins == 0


def test_unknown_email_and_wrong_password_get_the_same_answer(api):
    user = make_user()

    unknown = login(api, "nobody@example.com")
    wrong = login(api, user.email, "not the password")

    assert (unknown.status_code, unknown.json_body) == (401, WRONG)
    assert (wrong.status_code, wrong.json_body) == (401, WRONG)


def test_unverified_account_cannot_log_in_with_the_right_password(api):
    user = make_user(verified=False)

    response = login(api, user.email)

    assert response.status_code == 403
    assert response.json_body == {"error": "Account not verified.", "code": "account_not_verified"}


def test_unverified_account_with_a_wrong_password_is_just_wrong(api):
    user = make_user(verified=False)

    assert login(api, user.email, "nope-nope").json_body == WRONG


def test_three_failures_in_a_row_block_the_account(api):
    user = make_user()

    answers = [login(api, user.email, "wrong-password").status_code for _ in range(3)]

    assert answers == [401, 401, 401]
    stored = User.get(user.id)
    assert stored.blocked
    assert stored.blocked_at is not None
    right = login(api, user.email)
    assert (right.status_code, right.json_body) == (403, BLOCKED)


def test_a_success_resets_the_failure_count(api):
    user = make_user()
    for _ in range(2):
        login(api, user.email, "wrong-password")

    assert login(api, user.email).status_code == 200
    assert User.get(user.id).failed_logins == 0
    for _ in range(2):
        login(api, user.email, "wrong-password")
    assert not User.get(user.id).blocked


def test_blocked_account_does_not_check_passwords(api, monkeypatch):
    user = make_user()
    for _ in range(3):
        login(api, user.email, "wrong-password")
    checks = []
    from chalicelib.services.accounts import lockout

    monkeypatch.setattr(lockout, "verify_password", lambda *a: checks.append(a) or (True, None))

    assert login(api, user.email).json_body == BLOCKED
    assert checks == []
    assert User.get(user.id).failed_logins == 3


def test_blocking_revokes_existing_tokens(api):
    user = make_user()
    token = login(api, user.email).json_body["auth_token"]
    for _ in range(3):
        login(api, user.email, "wrong-password")

    response = api.get("/myself", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code in (401, 403)


def test_admin_unblock_lets_the_right_password_in_again(api):
    user = make_user()
    for _ in range(3):
        login(api, user.email, "wrong-password")

    unblock = api.put(f"/users/{user.id}", {"blocked": False}, as_=admin_user())

    assert unblock.status_code == 200
    assert unblock.json_body["user"]["blocked"] is False
    assert User.get(user.id).failed_logins == 0
    assert login(api, user.email).status_code == 200


def test_an_outdated_hash_is_upgraded_at_the_next_successful_login(api):
    weak = CryptContext(schemes=["argon2"], argon2__rounds=1, argon2__memory_cost=1024)
    user = make_user()
    user.update(actions=[User.password_hash.set(weak.hash(DEFAULT_PASSWORD))])

    assert login(api, user.email).status_code == 200

    upgraded = User.get(user.id).password_hash
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert login(api, user.email).status_code == 200


def test_social_account_without_password_cannot_log_in_with_one(api):
    user = make_user(None, password=None, provider="google")

    assert login(api, user.email, "anything-at-all").json_body == WRONG


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "a@example.com"},
        {"password": "x"},
        {"email": "", "password": "x"},
        {"email": "a@example.com", "password": ""},
        {"email": 1, "password": "x"},
        {"email": "a@example.com", "password": "x" * 1025},
        {"email": "a@example.com", "password": "x", "remember": True},
    ],
)
def test_malformed_login_is_a_400_and_counts_nothing(api, body):
    admin = admin_user()

    response = api.post("/login", body)

    assert response.status_code == 400
    assert response.json_body["code"] in ("invalid_request", "malformed_json")
    assert User.get(admin.id).failed_logins == 0


def test_unknown_email_spends_a_password_check_too(api, monkeypatch):
    from chalicelib.auth import passwords

    spent = []
    real = passwords.dummy_verify
    monkeypatch.setattr(
        "chalicelib.services.accounts.sign_in.dummy_verify", lambda p: spent.append(p) or real(p)
    )

    login(api, "nobody@example.com", "guess")

    assert spent == ["guess"]


# --- checks in flight, crashed checks, notices ------------------------------------------


def running_checks(user, *, seconds_left=30, count=1):
    """Password checks another process has started and not finished (slots in the item)."""
    import time

    slots = {f"other{i}:{int(time.time()) + seconds_left}" for i in range(count)}
    User.get(user.id).update(actions=[User.login_checks.add(slots)])


def test_when_every_check_slot_is_running_a_login_is_asked_to_retry_never_blocked(api):
    user = make_user()
    running_checks(user, count=3)

    response = login(api, user.email)

    assert response.status_code == 429
    assert response.json_body["code"] == "too_many_attempts"
    assert response.headers["Retry-After"] == "1"
    stored = User.get(user.id)
    assert not stored.blocked and stored.failed_logins == 0


def test_running_checks_and_failures_share_three_slots(api):
    user = make_user()
    login(api, user.email, "wrong-password")
    login(api, user.email, "wrong-password")
    running_checks(user, count=1)

    response = login(api, user.email, "wrong-password")

    assert response.status_code == 429  # a fourth check could have run beside the third
    assert User.get(user.id).failed_logins == 2


def test_a_check_abandoned_by_a_crash_expires(api):
    user = make_user()
    running_checks(user, count=3, seconds_left=-1)

    response = login(api, user.email)

    assert response.status_code == 200
    assert User.get(user.id).login_checks is None


def test_a_finished_check_frees_its_slot(api):
    user = make_user()

    for _ in range(5):
        assert login(api, user.email).status_code == 200

    assert User.get(user.id).login_checks is None


def test_three_failures_left_unflagged_by_a_crash_block_at_the_next_attempt(api):
    user = make_user()
    User.get(user.id).update(actions=[User.failed_logins.set(3)])

    response = login(api, user.email)

    assert response.json_body == BLOCKED
    assert User.get(user.id).blocked


def test_the_owner_is_emailed_when_the_account_is_blocked(api):
    user = make_user()
    for _ in range(4):
        login(api, user.email, "wrong-password")

    notices = [m for m in sent_emails() if user.email in m.to]

    assert len(notices) == 1
    assert notices[0].subject == "Your Events API account is blocked"
    assert "administrator" in notices[0].body


def test_an_admin_block_emails_the_owner_too(api):
    user = make_user()

    api.put(f"/users/{user.id}", {"blocked": True}, as_=admin_user())
    api.put(f"/users/{user.id}", {"blocked": True}, as_=admin_user())

    notices = [m for m in sent_emails() if user.email in m.to]
    assert [m.subject for m in notices] == ["Your Events API account is blocked"]


@pytest.mark.parametrize("right", [True, False])
def test_a_user_deleted_during_a_password_check_is_not_brought_back(api, monkeypatch, right):
    from chalicelib.db.base import get_or_none
    from chalicelib.services.accounts import lockout

    user = make_user()

    def check_then_lose_the_race(password, password_hash):
        User.get(user.id).delete()  # an admin deletes the account meanwhile
        return right, None

    monkeypatch.setattr(lockout, "verify_password", check_then_lose_the_race)

    response = login(api, user.email)

    assert (response.status_code, response.json_body) == (401, WRONG)
    assert get_or_none(User, user.id) is None
