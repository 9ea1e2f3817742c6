"""The README's device flows end to end: the local stack talking to fake providers."""

import pytest
import requests

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("provider", ["github", "google"])
def test_device_flow_end_to_end(local_stack, fake_providers, provider):
    api = local_stack.api_url
    step_1 = requests.get(f"{api}/{provider}-device-auth-step-1", timeout=10)
    device_code = step_1.json()["device_code"]
    email = f"{provider}-person@example.com"
    fake_providers.approve(device_code, subject=f"{provider}-777", email=email)

    def step_2():
        return requests.post(
            f"{api}/{provider}-device-auth-step-2", json={"device_code": device_code}, timeout=10
        )

    pending, approved = step_2(), step_2()
    token = approved.json()["auth_token"]
    me = requests.get(f"{api}/myself", headers={"Authorization": f"Bearer {token}"}, timeout=10)

    assert step_1.status_code == 200
    assert step_1.json()["verification_url"].endswith("/device")
    assert (pending.status_code, pending.json()["code"]) == (400, "authorization_pending")
    assert approved.status_code == 200
    assert (me.json()["email"], me.json()["provider"], me.json()["role"]) == (email, provider, None)


def test_make_run_offers_the_device_flow_offline_with_fake_sign_in(tmp_path):
    import re

    from tests.integration.conftest import start

    stack = start(None, tmp_path / "stack.log", {"FAKE_SIGN_IN": "1"})
    try:
        step_1 = requests.get(f"{stack.api_url}/github-device-auth-step-1", timeout=10).json()
        page = requests.get(step_1["verification_url"], timeout=10)
        approved = requests.get(
            step_1["verification_url"],
            params={"user_code": step_1["user_code"], "email": "offline@example.com"},
            timeout=10,
        )
        answers = [
            requests.post(
                f"{stack.api_url}/github-device-auth-step-2",
                json={"device_code": step_1["device_code"]},
                timeout=10,
            )
            for _ in range(2)
        ]
        banner = stack.log()
    finally:
        stack.stop()

    assert page.status_code == 200 and "<form" in page.text
    assert "Approved as offline@example.com" in approved.text
    assert answers[-1].status_code == 200, answers[-1].text
    assert re.search(r"open http://127\.0\.0\.1:\d+/device", banner)
