"""The docs page in a real browser: headless Chromium loads `/` from the local stack, lists the
operations, and runs GET /events through "Try it out"."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.integration.test_accounts_flow import admin_token

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = Path(__file__).resolve().parents[2] / "build" / "swagger-ui.png"
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# closed network refuses.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian package `chromium`; .ci/run installs it)",
)
def test_swagger_ui_lists_operations_and_tries_get_events(local_stack):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 2000})
            page.goto(f"{local_stack.api_url}/", wait_until="networkidle")
            page.wait_for_selector(".opblock", timeout=30_000)

            operations = page.locator(".opblock-summary-path").all_inner_texts()
            assert "/events" in operations
            assert "/sold-tickets" in operations
            assert len(page.locator(".opblock").all()) >= 40

            list_events = page.locator("#operations-events-get_events")
            list_events.locator(".opblock-summary").click()
            list_events.locator("button.try-out__btn").click()
            list_events.locator("button.execute").click()
            status = list_events.locator(".live-responses-table tbody .response-col_status").first
            status.wait_for(timeout=30_000)
            assert status.inner_text().strip().startswith("200")

            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=False)

            # "Authorize" with a bearer token, then an authenticated call from the page.
            token = admin_token(local_stack)
            page.locator("button.authorize").first.click()
            page.locator(".modal-ux input[type=text]").fill(token)
            page.locator(".modal-ux button.authorize").click()
            page.locator(".modal-ux button.btn-done").click()
            myself = page.locator("#operations-accounts-get_myself")
            myself.locator(".opblock-summary").click()
            myself.locator("button.try-out__btn").click()
            myself.locator("button.execute").click()
            status = myself.locator(".live-responses-table tbody .response-col_status").first
            status.wait_for(timeout=30_000)
            assert status.inner_text().strip().startswith("200")
        finally:
            browser.close()
