"""boto3 clients, built lazily once per process so tests and the local stack can point them.

boto3 is imported on the first client (SES, SSM), not with the app: ~25 ms of cold start that
requests sending no email never pay."""

from __future__ import annotations

import threading
from typing import Any

from botocore.config import Config

from chalicelib.settings import get_settings

_lock = threading.Lock()
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """A shared client for `service`; boto3 clients are thread-safe, their creation is not."""
    with _lock:
        if service not in _clients:
            import boto3

            settings = get_settings()
            _clients[service] = boto3.session.Session().client(
                service,
                region_name=settings.aws_region,
                endpoint_url=settings.aws_endpoint_url,
                config=Config(retries={"mode": "standard", "max_attempts": 3}),
            )
        return _clients[service]
