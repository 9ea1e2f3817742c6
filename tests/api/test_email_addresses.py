"""Every route that sends to an email it is given: SES delivers to ASCII addresses only, so an
international domain is kept as punycode (and mail goes there), and a name before the @
outside ASCII is a clear 400 that changes nothing."""

import pytest

from chalicelib.api.schemas.common import NON_ASCII_LOCAL_PART
from tests.conftest import admin_user, buyer_body, make_event, make_user, sent_emails

UNICODE_DOMAIN = "bea@bücher.de"
PUNYCODE = "bea@xn--bcher-kva.de"
UNICODE_NAME = "jürgen@example.com"


def routes(event_id):
    """(path, body with the email in it, caller) of each route that takes an email."""
    return [
        ("/register", lambda e: {"email": e, "password": "password1", "role": "organizer"}, None),
        ("/resend-verification", lambda e: {"email": e}, None),
        ("/forgot-password", lambda e: {"email": e}, None),
        ("/buyer-access", lambda e: {"email": e}, None),
        ("/users", lambda e: {"email": e, "password": "password1", "role": "reseller"}, "admin"),
        ("/sold-tickets", lambda e: {"event_id": event_id, "buyer": buyer_body(email=e)}, None),
        ("/orders", lambda e: {"event_id": event_id, "items": [{"quantity": 1}],
                               "buyer": buyer_body(email=e)}, None),
    ]  # fmt: skip


@pytest.fixture
def event_id(tables):
    return make_event(make_user("organizer"))


def test_a_name_outside_ascii_is_a_400_at_every_route_that_takes_an_email(api, event_id):
    for path, body, caller in routes(event_id):
        as_ = admin_user() if caller == "admin" else None
        response = api.post(path, body(UNICODE_NAME), as_=as_)

        assert response.status_code == 400, (path, response.json_body)
        assert NON_ASCII_LOCAL_PART in str(response.json_body["details"]), path
    assert sent_emails(drain=False) == []


def test_an_international_domain_is_kept_and_mailed_as_punycode(api, event_id):
    registered = api.post(
        "/register", {"email": UNICODE_DOMAIN, "password": "password1", "role": "organizer"}
    )
    booked = api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer_body(
        email="Cy@Bücher.de")})  # fmt: skip

    assert registered.status_code == 201, registered.json_body
    assert booked.status_code == 201, booked.json_body
    recipients = sorted(to for email in sent_emails() for to in email.to)
    assert recipients == [PUNYCODE, "cy@xn--bcher-kva.de"]
    # The same person signing in types the domain either way.
    again = api.post("/forgot-password", {"email": PUNYCODE})
    assert again.status_code == 202
