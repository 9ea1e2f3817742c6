"""Routes that email a link to an address do the same work whoever the address belongs to, and
send nothing inside the request: their answer time cannot tell a holder from a stranger.
(Work is compared, not time: DynamoDB calls made, and SES calls, which are none.)"""

import pytest

from bench.meter import metered
from tests.api.test_my_tickets import book, cancellable_event
from tests.conftest import make_user, sent_emails


def work_of(api, path, email):
    with metered() as meter:
        response = api.post(path, {"email": email})
    assert response.status_code == 202, response.json_body
    return meter.cost.operations


@pytest.mark.parametrize(
    ("path", "known"),
    [
        ("/buyer-access", "holder"),
        ("/forgot-password", "user"),
        ("/resend-verification", "unverified"),
    ],
)
def test_a_known_and_an_unknown_address_cost_the_same_and_send_nothing_yet(api, path, known):
    if known == "holder":
        email = "holder@example.com"
        book(api, cancellable_event(), email)
        sent_emails()  # the confirmation, out of the way
    else:
        email = make_user("organizer", verified=known != "unverified").email
    before = len(sent_emails())

    for_known = work_of(api, path, email)
    for_stranger = work_of(api, path, "nobody-here@example.com")

    assert for_known == for_stranger == ["GetItem", "TransactWriteItems"]
    assert len(sent_emails(drain=False)) == before  # nothing sent by the requests
    after = sent_emails()  # the stream's consumer sends the one that is due
    assert [m.to for m in after[before:]] == [[email]]
