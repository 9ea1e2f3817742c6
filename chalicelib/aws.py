"""AWS clients, built lazily once per process so tests and the local stack can point them.

botocore directly rather than boto3: boto3 adds nothing to a low-level client but ~25 ms of
imports to every cold start."""

from __future__ import annotations

import threading
from typing import Any

import botocore.session
from botocore.config import Config

from chalicelib.settings import get_settings

_lock = threading.Lock()
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """A shared client for `service`; clients are thread-safe, their creation is not."""
    with _lock:
        if service not in _clients:
            settings = get_settings()
            _clients[service] = botocore.session.get_session().create_client(
                service,
                region_name=settings.aws_region,
                endpoint_url=settings.aws_endpoint_url,
                config=Config(retries={"mode": "standard", "max_attempts": 3}),
            )
        return _clients[service]
