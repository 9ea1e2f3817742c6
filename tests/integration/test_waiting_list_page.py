"""The waiting list's emailed link, as a person uses it: a page in headless Chromium whose
button leaves the list (against the local stack, with its emulator's mailbox)."""

from __future__ import annotations

import time

import pytest

from tests.integration.test_checkout_page import browser, page  # noqa: F401 - fixtures
from tests.integration.test_order_races import online_event
from tests.integration.test_swagger_ui import CHROMIUM
from tests.integration.test_ticket_races import Caller, buyer, seller

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Chromium is not installed (Debian package `chromium`; .ci/run installs it)",
    ),
]


def emailed_link(stack, email: str, monkeypatch) -> str:
    from devstack import mail

    monkeypatch.setenv("EMU", stack.emulator_url)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        link = mail.newest_link(email, ("waiting-list",))
        if link:
            return link
        time.sleep(0.2)
    raise AssertionError(f"no waiting-list link emailed to {email}")


def test_the_emailed_link_leaves_the_list_with_one_click(local_stack, page, monkeypatch):  # noqa: F811
    _, organizer = seller(local_stack, "organizer")
    event_id = online_event(organizer, 1, payment="online")
    anonymous = Caller(local_stack)
    assert anonymous("POST", "/orders", {"event_id": event_id, "items": [{"quantity": 1}],
                                         "buyer": buyer()}).status_code == 201  # fmt: skip
    person = buyer()
    joined = anonymous("POST", f"/events/{event_id}/waiting-list",
                       {"ticket_type_id": event_id, "quantity": 1, "buyer": person})  # fmt: skip
    assert joined.status_code == 202, joined.text
    link = emailed_link(local_stack, person["email"], monkeypatch)

    page.goto(link)
    page.get_by_role("button", name="Leave the waiting list").click()

    page.wait_for_selector("text=You have left the waiting list")
    assert page.problems == []
    [entry] = organizer("GET", f"/events/{event_id}/waiting-list").json()["entries"]
    assert entry["status"] == "left"
