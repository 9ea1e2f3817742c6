"""Shared fixtures. The environment is set before any app module is imported, because table
names and endpoints are read once, at import."""

import os

TEST_ENV = {
    "STAGE": "dev",
    "TABLE_PREFIX": "test-",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "APP_URL": "http://api.test",
    "JWT_SECRET": "test-jwt-secret-not-used-anywhere-else",
    "SES_SENDER": "tickets@example.com",
    "ADMIN_EMAIL": "admin@example.com",
    "ADMIN_PASSWORD": "Admin-Passw0rd-Test!",
}
os.environ.update(TEST_ENV)
# Unit and API tests talk to moto in-process; an endpoint would bypass it.
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_SESSION_TOKEN", None)
os.environ.pop("AWS_PROFILE", None)

import pytest  # noqa: E402
from chalice.test import Client  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib import aws  # noqa: E402
from chalicelib.bootstrap import bootstrap  # noqa: E402
from chalicelib.settings import get_settings  # noqa: E402
from devstack.gateway import ContractGateway  # noqa: E402


@pytest.fixture
def aws_mock():
    """A fresh, empty in-process AWS for one test."""
    with mock_aws():
        aws.reset_clients()
        yield
    aws.reset_clients()


@pytest.fixture
def tables(aws_mock):
    """Every table created, the SES sender verified and the first admin seeded."""
    bootstrap(get_settings())


@pytest.fixture
def chalice_app():
    from app import app

    return app


@pytest.fixture
def client(tables, chalice_app):
    """chalice's test client, answering gateway-level errors as the deployed gateway does."""
    with Client(chalice_app, stage_name="dev") as test_client:
        http = test_client.http
        http._local_gateway = ContractGateway(chalice_app, http._config)
        yield test_client
