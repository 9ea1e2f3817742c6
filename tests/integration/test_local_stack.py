"""The local stack as `make run` starts it: health, an atomic emulator, isolated requests,
emails readable from the emulator, and a clean stop."""

from __future__ import annotations

import shutil
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.conftest import alive, descendants, start

pytestmark = pytest.mark.integration


def emulator_client(stack, service):
    return boto3.session.Session().client(
        service,
        endpoint_url=stack.emulator_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"mode": "standard", "max_attempts": 1}, max_pool_connections=4),
    )


def test_health_answers_200(local_stack):
    response = requests.get(f"{local_stack.api_url}/health", timeout=5)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_head_health_answers_200_without_a_body(local_stack):
    response = requests.head(f"{local_stack.api_url}/health", timeout=10)

    assert response.status_code == 200
    assert response.content == b""


def test_unknown_route_is_a_json_404(local_stack):
    response = requests.get(f"{local_stack.api_url}/nowhere", timeout=5)

    assert response.status_code == 404
    assert response.json() == {"error": "Not found.", "code": "not_found"}


def test_emulator_applies_conditional_transactions_atomically(local_stack):
    """16 threads x 20 conditional TransactWriteItems against a counter capped at 100."""
    dynamodb = emulator_client(local_stack, "dynamodb")
    table = f"atomicity-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "counter"}, "n": {"N": "0"}})

    def worker(_: int) -> int:
        client = emulator_client(local_stack, "dynamodb")
        accepted = 0
        for _ in range(20):
            try:
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": table,
                                "Key": {"pk": {"S": "counter"}},
                                "UpdateExpression": "SET n = n + :one",
                                "ConditionExpression": "n < :cap",
                                "ExpressionAttributeValues": {
                                    ":one": {"N": "1"},
                                    ":cap": {"N": "100"},
                                },
                            }
                        },
                        {
                            "Put": {
                                "TableName": table,
                                "Item": {"pk": {"S": f"item-{uuid.uuid4().hex}"}},
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                    ]
                )
                accepted += 1
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "TransactionCanceledException"
        return accepted

    with ThreadPoolExecutor(max_workers=16) as pool:
        accepted = sum(pool.map(worker, range(16)))

    items = dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    keys = [item["pk"]["S"] for page in items for item in page["Items"]]
    counter = dynamodb.get_item(TableName=table, Key={"pk": {"S": "counter"}}, ConsistentRead=True)
    assert accepted == 100
    assert len([key for key in keys if key.startswith("item-")]) == 100
    assert counter["Item"]["n"]["N"] == "100"


def test_concurrent_requests_each_see_only_their_own_request(local_stack):
    """Many threads of one `chalice local` process: no request sees another's state."""

    def call(n: int) -> tuple[str, str, int]:
        request_id = f"req-{n}-{uuid.uuid4().hex}"
        with requests.Session() as session:
            response = session.get(
                f"{local_stack.api_url}/health", headers={"X-Request-Id": request_id}, timeout=30
            )
        return request_id, response.headers.get("X-Request-Id", ""), response.status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(call, range(160)))

    assert all(status == 200 for _, _, status in results)
    mixed_up = [(sent, got) for sent, got, _ in results if sent != got]
    assert mixed_up == []


def test_sent_emails_are_readable_from_the_emulator(local_stack):
    ses = emulator_client(local_stack, "ses")
    ses.send_email(
        Source="tickets@example.com",
        Destination={"ToAddresses": ["someone@example.com"]},
        Message={"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "Hi there"}}},
    )

    emails = requests.get(f"{local_stack.emulator_url}/_devstack/sent-emails", timeout=5).json()

    assert {"to": ["someone@example.com"], "subject": "Hello"}.items() <= emails["emails"][
        -1
    ].items()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_serves_health_and_stops_cleanly_on_sigterm(tmp_path):
    stack = start(["make", "--no-print-directory", "run"], tmp_path / "make-run.log")
    started = descendants(stack.process.pid)
    assert len(started) >= 3, stack.log()  # launcher, emulator, API server

    stack.stop()

    left = [pid for pid in started if alive(pid)]
    assert left == [], stack.log()
    assert "Traceback" not in stack.log()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{stack.api_url}/health", timeout=2)


def test_64_parallel_clients_get_answers_and_no_connection_is_reset(local_stack):
    barrier = threading.Barrier(64)

    def call(_):
        barrier.wait(timeout=30)  # all 64 connect at once
        return requests.get(f"{local_stack.api_url}/events?limit=5", timeout=60)

    with ThreadPoolExecutor(max_workers=64) as pool:
        answers = list(pool.map(call, range(64)))

    assert [a.status_code for a in answers] == [200] * 64


def test_the_local_servers_own_refusals_use_the_error_shape_with_a_request_id(local_stack):
    huge = requests.get(
        f"{local_stack.api_url}/health", headers={"X-Big": "x" * 100_000}, timeout=10
    )
    unknown = requests.get(
        f"{local_stack.api_url}/nowhere", headers={"X-Request-Id": "trace-1"}, timeout=10
    )
    denied = requests.get(
        f"{local_stack.api_url}/myself", headers={"Authorization": "Bearer nope"}, timeout=10
    )

    assert huge.status_code == 431
    assert huge.json()["code"] == "headers_too_large"
    assert huge.headers["X-Request-Id"]
    assert (unknown.status_code, unknown.headers["X-Request-Id"]) == (404, "trace-1")
    assert denied.status_code in (401, 403) and denied.headers["X-Request-Id"]
    assert set(denied.json()) == {"error", "code"}
