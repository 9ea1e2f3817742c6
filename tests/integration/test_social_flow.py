"""The README's device flow end to end: the local stack talking to a fake GitHub."""

import pytest
import requests

pytestmark = pytest.mark.integration


def test_github_device_flow_end_to_end(local_stack, fake_github):
    step_1 = requests.get(f"{local_stack.api_url}/github-device-auth-step-1", timeout=10)
    device_code = step_1.json()["device_code"]
    fake_github.person_for(device_code, user_id=777, email="octo@example.com")

    pending = requests.post(
        f"{local_stack.api_url}/github-device-auth-step-2",
        json={"device_code": device_code},
        timeout=10,
    )
    approved = requests.post(
        f"{local_stack.api_url}/github-device-auth-step-2",
        json={"device_code": device_code},
        timeout=10,
    )
    token = approved.json()["auth_token"]
    me = requests.get(
        f"{local_stack.api_url}/myself", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )

    assert step_1.status_code == 200
    assert step_1.json()["verification_url"].endswith("/login/device")
    assert (pending.status_code, pending.json()["code"]) == (400, "authorization_pending")
    assert approved.status_code == 200
    assert (me.json()["email"], me.json()["provider"], me.json()["role"]) == (
        "octo@example.com",
        "github",
        None,
    )
