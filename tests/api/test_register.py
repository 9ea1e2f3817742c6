"""POST /register, GET /activate/{token}, POST /resend-verification."""

import re
from datetime import timedelta

import pytest

from chalicelib.db.base import utcnow
from chalicelib.db.link_tokens import LinkToken
from chalicelib.db.uniques import UniqueClaim
from chalicelib.db.users import User
from tests.conftest import drain_stream, make_user, random_email, sent_emails

LINK = re.compile(r"http://api\.test/activate/([A-Za-z0-9_-]+)")


def register(api, **overrides):
    body = {
        "email": overrides.pop("email", None) or random_email(),
        "password": "password1",
        "name": "ME",
        "role": "organizer",
        **overrides,
    }
    return api.post("/register", body), body


def links_sent_to(email):
    return [LINK.search(message.body).group(1) for message in sent_emails() if email in message.to]


def allow_resend_now(user_id):
    """Move the last send two minutes back, past the one-a-minute throttle."""
    user = User.get(user_id)
    user.update(actions=[User.verification_sent_at.set(utcnow() - timedelta(minutes=2))])


def test_register_creates_an_unverified_account_and_emails_a_link(api):
    response, body = register(api)

    assert response.status_code == 201
    assert set(response.json_body) == {"message", "user_id"}
    user = User.get(response.json_body["user_id"])
    assert (user.email, user.role, user.name, user.verified) == (
        body["email"],
        "organizer",
        "ME",
        False,
    )
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    [token] = links_sent_to(body["email"])
    assert len(token) >= 43  # 32 random bytes, base64url
    # Only the token's hash is stored, never the token.
    assert all(record.token_hash != token for record in LinkToken.scan())


def test_registered_email_is_normalised_and_unique(api):
    first, _body = register(api, email="Mixed.Case@Example.COM")
    assert first.status_code == 201
    User.get(first.json_body["user_id"]).update(actions=[User.verified_at.set(utcnow())])

    again, _ = register(api, email="  mixed.case@example.com")

    assert again.status_code == 409
    assert again.json_body == {"error": "User already exists.", "code": "user_exists"}
    assert User.count() == 2  # the admin and this one


def test_register_of_a_verified_email_changes_nothing(api):
    existing = make_user(email="taken@example.com", name="Original")

    response, _ = register(api, email="taken@example.com", name="Intruder", password="x" * 12)

    assert response.status_code == 409
    assert User.get(existing.id).name == "Original"
    assert links_sent_to("taken@example.com") == []


def test_registering_an_unverified_email_again_is_a_409_and_changes_nothing(api):
    first, body = register(api)
    user_id = first.json_body["user_id"]
    allow_resend_now(user_id)  # the old takeover waited out the resend minute
    before = User.get(user_id)

    again, _ = register(
        api, email=body["email"], name="Stranger", role="reseller", password="strangers-pass"
    )

    assert again.status_code == 409
    assert again.json_body == {"error": "User already exists.", "code": "user_exists"}
    after = User.get(user_id)
    assert after.attribute_values == before.attribute_values
    [link] = links_sent_to(body["email"])
    assert api.get(f"/activate/{link}").status_code == 200
    assert (
        api.post("/login", {"email": body["email"], "password": "strangers-pass"}).status_code
        == 401
    )
    assert api.post("/login", {"email": body["email"], "password": "password1"}).status_code == 200


def expire_verification(user_id):
    """The newest link went out 24 hours ago and was never clicked."""
    user = User.get(user_id)
    user.update(actions=[User.verification_sent_at.set(utcnow() - timedelta(hours=24, seconds=1))])


def test_an_unverified_account_whose_link_expired_unused_is_released(api):
    first, body = register(api)
    old_id = first.json_body["user_id"]
    expire_verification(old_id)
    [old_link] = links_sent_to(body["email"])

    again, _ = register(api, email=body["email"], name="Newcomer", role="reseller")

    assert again.status_code == 201
    new_id = again.json_body["user_id"]
    assert new_id != old_id
    assert User.count() == 2  # the admin and the new account only
    assert UniqueClaim.get(f"user-email:{body['email']}").owner_id == new_id
    assert (User.get(new_id).name, User.get(new_id).role) == ("Newcomer", "reseller")
    _, new_link = links_sent_to(body["email"])
    assert api.get(f"/activate/{old_link}").status_code == 400
    assert api.get(f"/activate/{new_link}").status_code == 200


def test_a_link_resent_within_24_hours_keeps_the_email_taken(api):
    first, body = register(api)
    user_id = first.json_body["user_id"]
    expire_verification(user_id)
    allow_resend_now(user_id)
    assert api.post("/resend-verification", {"email": body["email"]}).status_code == 202

    again, _ = register(api, email=body["email"])

    assert again.status_code == 409
    assert User.get(user_id).email == body["email"]


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "x" * 1025}, "password"),
        ({"role": "admin"}, "role"),
        ({"role": "buyer"}, "role"),
        ({"name": "n" * 257}, "name"),
        ({"name": "Bob\n\nYour account is suspended. Log in at http://evil.example"}, "name"),
        ({"name": "Bob\r\nBcc: victim@example.com"}, "name"),
        ({"name": "Bob\x00"}, "name"),
        ({"name": "Bob\u2029Alice"}, "name"),
        ({"name": 5}, "name"),
        ({"password": 12345678}, "password"),
        ({"unexpected": "field"}, "unexpected"),
    ],
)
def test_invalid_registration_is_a_400_naming_the_field_and_writes_nothing(api, override, field):
    response, _ = register(api, **override)

    assert response.status_code == 400
    assert response.json_body["error"] == "Invalid request."
    assert field in response.json_body["details"]
    assert User.count() == 1  # only the admin
    assert sent_emails() == []


@pytest.mark.parametrize("missing", ["email", "password", "role"])
def test_missing_required_field_is_a_400(api, missing):
    body = {"email": random_email(), "password": "password1", "role": "reseller"}
    del body[missing]

    response = api.post("/register", body)

    assert response.status_code == 400
    assert missing in response.json_body["details"]


def test_password_is_checked_exactly_as_typed(api):
    _response, body = register(api, password="  spaced password  ")
    [token] = links_sent_to(body["email"])
    api.get(f"/activate/{token}")

    trimmed = api.post("/login", {"email": body["email"], "password": "spaced password"})
    as_typed = api.post("/login", {"email": body["email"], "password": "  spaced password  "})

    assert (trimmed.status_code, as_typed.status_code) == (401, 200)


def test_activation_link_verifies_once_and_a_second_click_is_harmless(api):
    response, body = register(api)
    [token] = links_sent_to(body["email"])

    first = api.get(f"/activate/{token}")
    second = api.get(f"/activate/{token}")

    assert first.status_code == 200
    assert first.headers["Content-Type"].startswith("text/html")
    assert b"Account verified" in first.body
    assert User.get(response.json_body["user_id"]).verified
    assert second.status_code == 200
    assert b"already verified" in second.body


@pytest.mark.parametrize("token", ["nonsense", "A" * 43, "%3Cscript%3Ealert(1)%3C%2Fscript%3E"])
def test_unknown_or_tampered_link_is_a_400_page(api, token):
    register(api)

    response = api.get(f"/activate/{token}")

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    assert b"<script>" not in response.body
    assert [user.role for user in User.scan() if user.verified] == ["admin"]


def test_tampered_real_link_is_refused(api):
    _, body = register(api)
    [token] = links_sent_to(body["email"])
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    assert api.get(f"/activate/{tampered}").status_code == 400


def test_expired_link_is_a_400_and_does_not_verify(api):
    response, body = register(api)
    [token] = links_sent_to(body["email"])
    for record in LinkToken.scan():
        record.update(actions=[LinkToken.expires_at.set(utcnow() - timedelta(seconds=1))])

    assert api.get(f"/activate/{token}").status_code == 400
    assert not User.get(response.json_body["user_id"]).verified


def test_links_expire_after_24_hours(api):
    register(api)

    [record] = list(LinkToken.scan())

    lifetime = record.expires_at - record.created_at
    assert timedelta(hours=23, minutes=59) < lifetime <= timedelta(hours=24)


def test_resend_answers_202_for_unknown_and_verified_emails_without_sending(api):
    verified = make_user()

    for email in ("nobody@example.com", verified.email):
        response = api.post("/resend-verification", {"email": email})
        assert response.status_code == 202
    assert sent_emails() == []


def test_resend_sends_a_new_link_and_the_old_one_stops_working(api):
    response, body = register(api)
    allow_resend_now(response.json_body["user_id"])

    resent = api.post("/resend-verification", {"email": body["email"]})

    assert resent.status_code == 202
    old, new = links_sent_to(body["email"])
    assert api.get(f"/activate/{old}").status_code == 400
    assert api.get(f"/activate/{new}").status_code == 200


def test_resend_is_limited_to_one_email_a_minute(api):
    _, body = register(api)

    for _ in range(3):
        assert api.post("/resend-verification", {"email": body["email"]}).status_code == 202

    assert len(links_sent_to(body["email"])) == 1


def test_resend_is_limited_to_five_emails_a_day(api):
    response, body = register(api)
    for _ in range(7):
        allow_resend_now(response.json_body["user_id"])
        api.post("/resend-verification", {"email": body["email"]})
        drain_stream()  # the link is made and sent by the stream's consumer, each in its turn

    assert len(links_sent_to(body["email"])) == 5


def test_the_daily_resend_count_starts_again_the_next_day(api):
    response, body = register(api)
    user = User.get(response.json_body["user_id"])
    user.update(
        actions=[
            User.verification_day.set("2000-01-01"),
            User.verification_sends.set(5),
            User.verification_sent_at.set(utcnow() - timedelta(days=1)),
        ]
    )

    api.post("/resend-verification", {"email": body["email"]})

    assert len(links_sent_to(body["email"])) == 2
    assert User.get(user.id).verification_sends == 1


def test_resend_with_a_bad_email_is_a_400(api):
    response = api.post("/resend-verification", {"email": "nope"})

    assert response.status_code == 400
    assert "email" in response.json_body["details"]


def test_email_claim_belongs_to_the_registered_user(api):
    response, body = register(api)

    claim = UniqueClaim.get(f"user-email:{body['email']}")

    assert claim.owner_id == response.json_body["user_id"]
