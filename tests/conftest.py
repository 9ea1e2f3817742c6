"""Shared fixtures. The environment is set before any app module is imported, because table
names and endpoints are read once, at import."""

import os
import socket
from types import SimpleNamespace as _Namespace

from chalicelib.auth.ticket_keys import local_key_set


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# This test process's own local Stripe (localstripe), started on first use (`stripe_fake`).
STRIPE_PORT = _free_port()

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
    "TICKET_KEYS": local_key_set(),
    "ADMIN_EMAIL": "admin@example.com",
    "ADMIN_PASSWORD": "Admin-Passw0rd-Test!",
    "GOOGLE_CLIENT_ID": "test-google-client.apps.googleusercontent.com",
    "GOOGLE_CLIENT_SECRET": "test-google-secret",
    "GITHUB_CLIENT_ID": "test-github-client",
    "GITHUB_CLIENT_SECRET": "test-github-secret",
    # Every test calls from one address; the abuse-limit tests turn limits on themselves.
    "RATE_LIMITS": "off",
    # botocore would send stream calls to an account-based host moto does not serve.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "STRIPE_SECRET_KEY": "sk_test_local",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_local",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_secret_for_the_suite",
    "STRIPE_API_URL": f"http://127.0.0.1:{STRIPE_PORT}",
    "STRIPE_JS_URL": f"http://127.0.0.1:{STRIPE_PORT}/js.stripe.com/v3/",
}
os.environ.update(TEST_ENV)
# Unit and API tests talk to moto in-process; an endpoint would bypass it.
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_SESSION_TOKEN", None)
os.environ.pop("AWS_PROFILE", None)


import pytest  # noqa: E402
from chalice.test import Client  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib.bootstrap import bootstrap, verify_sender  # noqa: E402
from chalicelib.settings import get_settings  # noqa: E402
from devstack import partitions, responses, transactions  # noqa: E402

# The emulator's replacements for moto's transactions and answers (each proven equal to moto's
# own by tests/unit/test_emulator_*.py), in-process too: moto's copy of whole tables on every
# TransactWriteItems made tests that grow tables slow, as it did the local stack.
transactions.install()
responses.install()
from devstack.gateway import ContractGateway  # noqa: E402


@pytest.fixture
def aws_mock():
    """A fresh, empty in-process AWS for one test.

    Cached boto3 clients stay valid: moto intercepts every client created after it was imported.
    """
    with mock_aws():
        # DYNAMODB_LIMITS=aws (or a scaled spec) runs the suite under the partition model:
        # fresh buckets for each test. Unset, nothing is charged.
        partitions.install(partitions.parse(os.environ.get("DYNAMODB_LIMITS")))
        try:
            yield
        finally:
            partitions.install(None)


@pytest.fixture(scope="session")
def stripe_fake():
    """localstripe on STRIPE_PORT for this test process (its webhooks point nowhere: tests
    post signed events themselves, see tests/payments.py)."""
    from devstack.stripe_server import running

    with running(STRIPE_PORT) as url:
        yield url


@pytest.fixture
def tables(aws_mock, stripe_fake):
    """Every table created, the SES sender verified and the first admin seeded."""
    bootstrap(get_settings(), create_missing_tables=True)
    verify_sender(get_settings())  # the setup step does this only in the local stack
    _stream["reader"] = None


# The changes table's stream, read from where the last drain stopped (one reader per test).
_stream: dict = {"reader": None}


def drain_stream() -> int:
    """Run the event stream's consumer over every change recorded since the last drain, and
    the side-effects worker over what it queued (emails, webhook attempts), as the deployed
    functions (or `make run`'s poller) would within seconds; returns how many changes."""
    done = 0
    while True:
        changes = consume_stream()
        done += changes
        if not drain_side_effects() and not changes:
            return done  # a side effect may record a change (a webhook paused): go round


def consume_stream() -> int:
    """The event stream's consumer alone: the changes since the last drain; how many."""
    from chalicelib import aws
    from chalicelib.consumers.changes import handle_records
    from devstack.streams import StreamReader, as_handler_input

    if _stream["reader"] is None:
        table = get_settings().table_name("changes")
        _stream["reader"] = StreamReader(
            aws.client("dynamodbstreams"), aws.client("dynamodb"), table
        )
    reader = _stream["reader"]
    records = reader.read()
    done = handle_records(as_handler_input(records))  # raising leaves them to read again
    reader.ack(len(records))
    return done


def drain_side_effects() -> int:
    """The side-effects worker over every message visible on its queue, one at a time (moto
    in-process is not safe for concurrent writes); how many were carried out. A failed message
    goes back on the queue at once and its error is raised."""
    from chalicelib import aws
    from chalicelib.consumers.side_effects import carry_out_batch
    from chalicelib.services.stream.side_effects import queue_url

    sqs, url, done = aws.client("sqs"), queue_url(), 0
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", [])
        if not got:
            return done
        [message] = got
        [(_, error)] = carry_out_batch([(message["MessageId"], message["Body"])])
        if error is not None:
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
            raise error
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        done += 1


@pytest.fixture
def rate_limits(monkeypatch):
    """Turn the abuse limits on (the suite otherwise runs with RATE_LIMITS=off), optionally with
    some set lower: `rate_limits(auth_ip="3/60")`."""

    from chalicelib.db import rate_limits as counters

    # Fixed windows restart on the clock: a test crossing a boundary would see its allowance
    # renewed. The counters' clock stands still here, mid-window for minutes and hours.
    monkeypatch.setattr(counters, "clock", lambda: 1_700_000_030.0)

    def apply(**overrides: str):
        monkeypatch.setenv("RATE_LIMITS", "on")
        for name, value in overrides.items():
            monkeypatch.setenv(f"RATE_LIMIT_{name.upper()}", value)
        get_settings.cache_clear()
        return get_settings()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


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


# --- factories and helpers ------------------------------------------------------------

DEFAULT_PASSWORD = "Corr3ct-Horse-Battery"


def random_email(prefix: str = "user") -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def make_user(
    role: str | None = "organizer",
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    name: str | None = "Test User",
    verified: bool = True,
    provider: str = "email",
):
    """A user written straight to the tables (with its email claim), bypassing the API."""
    from chalicelib.auth.passwords import hash_password
    from chalicelib.services.accounts.users import new_user, save_new_user

    user = new_user(
        email=email or random_email(role or "social"),
        password_hash=hash_password(password) if password else None,
        name=name,
        role=role,
        verified=verified,
        provider=provider,
    )
    assert save_new_user(user)
    return user


def token_for(user) -> str:
    from chalicelib.auth.tokens import issue_token

    return issue_token(user_id=user.id, role=user.role, token_version=user.token_version).auth_token


def bearer(user_or_token) -> dict[str, str]:
    token = user_or_token if isinstance(user_or_token, str) else token_for(user_or_token)
    return {"Authorization": f"Bearer {token}"}


def admin_user():
    from chalicelib.services.accounts.users import find_by_email

    return find_by_email(TEST_ENV["ADMIN_EMAIL"])


def sent_emails(*, drain: bool = True) -> list:
    """Emails moto's in-process SES accepted in this test, oldest first, read as a mail client
    reads them (`.to`, `.subject`, `.body`, `.html`, `.images`), plain and MIME alike. The
    event stream is drained first (its consumer sends confirmations and notices), unless
    `drain=False` asks what the requests alone sent."""
    from types import SimpleNamespace

    if drain:
        drain_stream()

    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from devstack.mailbox import describe

    backend = ses_backends[DEFAULT_ACCOUNT_ID][TEST_ENV["AWS_DEFAULT_REGION"]]
    return [SimpleNamespace(**describe(message)) for message in backend.sent_messages]


class Api:
    """JSON calls through chalice's test client."""

    def __init__(self, client):
        self.http = client.http

    def call(self, method: str, path: str, body=None, *, as_=None, headers=None):
        import json as _json

        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if as_ is not None:
            all_headers.update(bearer(as_))
        kwargs = {"headers": all_headers}
        if body is not None:
            kwargs["body"] = body if isinstance(body, (str, bytes)) else _json.dumps(body)
        return getattr(self.http, method.lower())(path, **kwargs)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


@pytest.fixture
def api(client):
    return Api(client)


def make_event(organizer=None, *, number_of_tickets=100, price="50", currency_code="GBP", days=30):
    """An event created through the service, with its organizer's pool; returns its id."""
    from datetime import timedelta

    from chalicelib.auth.principal import Principal
    from chalicelib.db.base import utcnow
    from chalicelib.services.sales.events import create_event

    organizer = organizer or make_user("organizer")
    created = create_event(
        actor=Principal(user_id=organizer.id, role="organizer"),
        title="A music concert",
        time=utcnow() + timedelta(days=days),
        price=price,
        currency_code=currency_code,
        number_of_tickets=number_of_tickets,
    )
    return created.event.id


def buyer_body(email=None, **overrides):
    return {
        "name": "Bea Buyer",
        "email": email or random_email("buyer"),
        "phone": "+442079460958",
        **overrides,
    }


# --- webhook receivers ------------------------------------------------------------


@pytest.fixture
def public_dns(monkeypatch):
    """Webhook receivers' names resolved without DNS: hooks.example.com resolves to a public
    address; the tests name others to refuse."""
    from chalicelib.services.stream import endpoints

    table = {"hooks.example.com": ["93.184.215.14"]}
    monkeypatch.setattr(endpoints, "resolve", lambda host: table.get(host, ["10.0.0.7"]))
    return table


class FakeReceivers:
    """Stands in for `endpoints.post`: answers each URL's statuses in turn (the last one
    repeats; an unknown URL gets no answer), keeping every call with the address it went to."""

    def __init__(self) -> None:
        self.routes: dict[str, list[int]] = {}
        self.calls: list[_Namespace] = []

    def add(self, url: str, status: int) -> None:
        self.routes.setdefault(url, []).append(status)

    def replace(self, url: str, status: int) -> None:
        self.routes[url] = [status]

    def __call__(self, target, body, headers, timeout_s):
        url = f"{target.scheme}://{target.host}{target.path}"
        self.calls.append(_Namespace(url=url, body=body, headers=headers, address=target.address))
        statuses = self.routes.get(url) or [0]
        return statuses.pop(0) if len(statuses) > 1 else statuses[0]


@pytest.fixture
def receiver(monkeypatch):
    from chalicelib.services.stream import endpoints

    fake = FakeReceivers()
    monkeypatch.setattr(endpoints, "post", fake)
    return fake


def event_items(model, event_id):
    """Every order or ticket of an event, through each part of its event index."""
    from chalicelib.db import index_parts
    from chalicelib.db.events import Event

    event = Event.get(event_id, consistent_read=True)
    parts = index_parts.event_parts(event_id, event.stock_shard_items)
    return list(index_parts.query_parts(model.by_event, parts))
