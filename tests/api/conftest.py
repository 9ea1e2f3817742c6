"""Fixtures of the webhook tests: public DNS for the receivers' names, and fake receivers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from chalicelib.services import endpoints


@pytest.fixture
def public_dns(monkeypatch):
    """hooks.example.com resolves to a public address; the tests name others to refuse."""
    table = {"hooks.example.com": ["93.184.215.14"]}
    monkeypatch.setattr(endpoints, "resolve", lambda host: table.get(host, ["10.0.0.7"]))
    return table


class FakeReceivers:
    """Stands in for `endpoints.post`: answers each URL's statuses in turn (the last one
    repeats; an unknown URL gets no answer), keeping every call with the address it went to."""

    def __init__(self) -> None:
        self.routes: dict[str, list[int]] = {}
        self.calls: list[SimpleNamespace] = []

    def add(self, url: str, status: int) -> None:
        self.routes.setdefault(url, []).append(status)

    def replace(self, url: str, status: int) -> None:
        self.routes[url] = [status]

    def __call__(self, target, body, headers, timeout_s):
        url = f"{target.scheme}://{target.host}{target.path}"
        self.calls.append(SimpleNamespace(url=url, body=body, headers=headers,
                                          address=target.address))  # fmt: skip
        statuses = self.routes.get(url) or [0]
        return statuses.pop(0) if len(statuses) > 1 else statuses[0]


@pytest.fixture
def receiver(monkeypatch):
    fake = FakeReceivers()
    monkeypatch.setattr(endpoints, "post", fake)
    return fake
