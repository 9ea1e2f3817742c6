"""The checkout page in headless Chromium against the local stack and its local Stripe (whose
fake Stripe.js draws plain inputs for the card and a 3-D Secure prompt): a buyer pays and sees
the tickets, a declined card shows why, a failed 3-D Secure check leaves the order reserved, and
a hold that ends while the page is open says so. At a phone's width, under the page's CSP."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_order_races import online_event, type_counts
from tests.integration.test_payments_flow import order
from tests.integration.test_swagger_ui import CHROMIUM, FLAGS
from tests.integration.test_ticket_races import Caller, seller
from tests.stripe_fake import CARD_3DS, CARD_DECLINED, CARD_OK

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Chromium is not installed (Debian package `chromium`; .ci/run installs it)",
    ),
]

PHONE = {"width": 375, "height": 740}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: problems.append(str(e)))
    opened.problems = problems
    yield opened
    context.close()


def fill_card(page, number: str) -> None:
    """The local Stripe.js draws one input per field, named by placeholder."""
    card = page.locator("#card")
    card.locator("input[placeholder=number]").fill(number)
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("30")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("10115")


def open_checkout(local_stack, page, *, quantity=2, hold_minutes=15):
    _, organizer = seller(local_stack, "organizer")
    event_id = online_event(organizer, 10, payment="online", hold_minutes=hold_minutes)
    placed = order(local_stack, event_id, quantity)
    page.goto(placed["order"]["payment"]["checkout_url"], wait_until="networkidle")
    return organizer, event_id, placed


def status_of(local_stack, placed) -> str:
    reader = Caller(local_stack, placed["order_token"])
    return reader("GET", f"/orders/{placed['order']['id']}").json()["order"]["status"]


def test_a_buyer_pays_on_a_phone_and_sees_the_tickets(local_stack, page):
    organizer, event_id, placed = open_checkout(local_stack, page)

    assert page.locator("h1").inner_text() == "Checkout"
    assert page.locator("#total").inner_text() == "80.00 EUR"
    assert page.locator("#countdown").inner_text().startswith(("14:", "15:"))
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    fill_card(page, CARD_OK)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "checkout.png"), full_page=True)
    page.locator("#submit").click()

    page.wait_for_selector("#paid", timeout=20_000)
    page.screenshot(path=str(SCREENSHOTS / "checkout-paid.png"), full_page=True)
    codes = page.locator("section.ticket .code").all_inner_texts()
    assert len(codes) == 2 and all(len(code) == 14 for code in codes)
    assert page.locator("section.ticket svg").count() == 2
    assert status_of(local_stack, placed) == "paid"
    assert type_counts(organizer, event_id)["General admission"] == (2, 0)
    assert not [p for p in page.problems if "Content Security Policy" in p], page.problems


def test_a_declined_card_shows_the_reason_and_the_order_stays_reserved(local_stack, page):
    organizer, event_id, placed = open_checkout(local_stack, page)

    fill_card(page, CARD_DECLINED)
    page.locator("#submit").click()

    error = page.locator("#error")
    error.filter(has_text="declined").wait_for(timeout=20_000)
    assert "Your card was declined." in error.inner_text()
    assert status_of(local_stack, placed) == "reserved"
    assert type_counts(organizer, event_id)["General admission"] == (0, 2)
    # Another card on the same page goes through.
    page.locator("#card input[placeholder=number]").fill(CARD_OK)
    page.locator("#submit").click()
    page.wait_for_selector("#paid", timeout=20_000)


def test_a_failed_3d_secure_check_shows_why_and_leaves_the_order_reserved(local_stack, page):
    _, _, placed = open_checkout(local_stack, page)

    fill_card(page, CARD_3DS)
    page.locator("#submit").click()
    page.get_by_role("button", name="Fail authentication").click(timeout=20_000)

    page.locator("#error").filter(has_text="authentication").wait_for(timeout=20_000)
    assert status_of(local_stack, placed) == "reserved"
    assert page.locator("#submit").is_enabled()


def test_a_passed_3d_secure_check_shows_the_tickets(local_stack, page):
    _, _, placed = open_checkout(local_stack, page, quantity=1)

    fill_card(page, CARD_3DS)
    page.locator("#submit").click()
    page.get_by_role("button", name="Complete authentication").click(timeout=20_000)

    page.wait_for_selector("#paid", timeout=20_000)
    assert page.locator("section.ticket .code").count() == 1
    assert status_of(local_stack, placed) == "paid"


def test_when_the_hold_ends_with_the_page_open_the_page_says_so(local_stack, page):
    organizer, event_id, placed = open_checkout(local_stack, page, quantity=1, hold_minutes=1)

    # The countdown reaches 0:00 and reloads; the server ends the hold on that read.
    page.wait_for_selector("#ended", timeout=90_000)

    assert "expired" in page.locator("#ended").inner_text()
    assert status_of(local_stack, placed) == "expired"
    assert type_counts(organizer, event_id)["General admission"] == (0, 0)


def test_a_link_with_a_wrong_or_missing_token_is_refused_as_a_page(local_stack, page):
    _, _, placed = open_checkout(local_stack, page)
    url = placed["order"]["payment"]["checkout_url"]

    for bad in (url.split("?")[0], url[:-3] + "abc", url.replace(placed["order"]["id"], "x")):
        response = page.goto(bad)
        assert response.status == 400, bad
        assert page.locator("h1").inner_text() == "Link not valid"
