"""In the local stack, webhooks may also go to http://127.0.0.1 with a real port: nothing else
on loopback, and nothing plain-http beyond it."""

import pytest

from chalicelib.services.stream import endpoints
from chalicelib.settings import get_settings


@pytest.fixture
def local(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000/hook", "http://127.0.0.1/hook"])
def test_a_receiver_on_this_machine_is_allowed_locally(local, url):
    target = endpoints.check(url)

    assert (target.address, target.scheme) == ("127.0.0.1", "http")


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1]:9000/hook",
        "http://127.0.0.1:0/hook",
        "http://localhost:9000/hook",
        "http://127.0.0.2:9000/hook",
        "http://example.com/hook",
    ],
)
def test_other_loopback_forms_and_plain_http_are_refused_locally(local, url, monkeypatch):
    monkeypatch.setattr(endpoints, "resolve", lambda host: ["127.0.0.1"])

    with pytest.raises(endpoints.UnsafeEndpoint):
        endpoints.check(url)


def test_outside_the_local_stack_even_127_0_0_1_is_refused(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(endpoints.UnsafeEndpoint):
            endpoints.check("http://127.0.0.1:9000/hook")
    finally:
        get_settings.cache_clear()
