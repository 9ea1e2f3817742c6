"""The emulator's fast path for DynamoDB's data plane (devstack/fast_path.py) against moto's own
web stack: the same calls, run on two emulators (one with the fast path, one without), must
answer the same, errors included."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from devstack.harness import free_port
from tests.unit.emulator_table import TABLE, create_table

PROJECT = Path(__file__).resolve().parents[2]
KEY = {"pk": {"S": "p"}, "sk": {"S": "s1"}}
ITEM = {
    **KEY,
    "n": {"N": "-12.50"},
    "b": {"B": b"\x00\xffbinary"},
    "blobs": {"BS": [b"x", b"y"]},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "names": {"SS": ["a", "b"]},
    "map": {"M": {"inner": {"L": [{"S": "é"}, {"N": "3"}, {"M": {}}]}}},
}


def emulator(fast: bool):
    port = free_port()
    args = [sys.executable, "-m", "devstack.emulator", "--port", str(port)]
    # Without the partition model (DYNAMODB_LIMITS=aws runs of the suite): its conflict window
    # depends on how fast each path answers, and the two paths are compared here.
    env = {k: v for k, v in os.environ.items() if k != "DYNAMODB_LIMITS"}
    process = subprocess.Popen(args + ([] if fast else ["--no-fast-path"]), cwd=PROJECT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.1)
    client = boto3.client(
        "dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )  # fmt: skip
    return process, client


def outcome(call):
    try:
        answer = call()
    except ClientError as exc:
        error = exc.response
        return {"error": error["Error"], "reasons": error.get("CancellationReasons"),
                "status": error["ResponseMetadata"]["HTTPStatusCode"]}  # fmt: skip
    answer.pop("ResponseMetadata", None)
    return answer


def scenario(client):
    update = {"TableName": TABLE, "Key": KEY, "UpdateExpression": "ADD n :one",
              "ExpressionAttributeValues": {":one": {"N": "1"}}}  # fmt: skip
    calls = {
        "put": lambda: client.put_item(TableName=TABLE, Item=ITEM),
        "put second": lambda: client.put_item(TableName=TABLE, Item={**ITEM, "sk": {"S": "s2"}}),
        "put refused": lambda: client.put_item(
            TableName=TABLE, Item=ITEM, ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD"),
        "get": lambda: client.get_item(TableName=TABLE, Key=KEY, ConsistentRead=True),
        "get projected": lambda: client.get_item(TableName=TABLE, Key=KEY,
                                                 ProjectionExpression="b, #m.inner",
                                                 ExpressionAttributeNames={"#m": "map"}),
        "get missing": lambda: client.get_item(TableName=TABLE,
                                               Key={"pk": {"S": "x"}, "sk": {"S": "y"}}),
        "get bad key": lambda: client.get_item(TableName=TABLE, Key={"pk": {"S": "p"}}),
        "get no table": lambda: client.get_item(TableName="nope", Key=KEY),
        "batch": lambda: client.batch_get_item(RequestItems={TABLE: {
            "Keys": [KEY, {"pk": {"S": "p"}, "sk": {"S": "s2"}}, {"pk": {"S": "q"},
                                                                  "sk": {"S": "z"}}],
            "ConsistentRead": True}}),
        "query": lambda: client.query(
            TableName=TABLE, KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
            ExpressionAttributeValues={":p": {"S": "p"}, ":s": {"S": "s"}}, Limit=1),
        "query bad": lambda: client.query(TableName=TABLE, KeyConditionExpression="pk = :p"),
        "update": lambda: client.update_item(**update, ReturnValues="ALL_NEW"),
        "update refused": lambda: client.update_item(**update, ConditionExpression="n > :one"),
        "update bad expression": lambda: client.update_item(
            TableName=TABLE, Key=KEY, UpdateExpression="SET = nonsense"),
        "transaction": lambda: client.transact_write_items(TransactItems=[
            {"Update": update},
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "t"}, "sk": {"S": "1"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "p"}, "sk": {"S": "s2"}},
                                "ConditionExpression": "attribute_exists(pk)"}},
        ]),
        "transaction refused": lambda: client.transact_write_items(TransactItems=[
            {"Update": update},
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "t"}, "sk": {"S": "1"}},
                     "ConditionExpression": "attribute_not_exists(pk)",
                     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        ]),
        "transaction twice on one item": lambda: client.transact_write_items(TransactItems=[
            {"Update": update}, {"Update": update}]),
        "transact get": lambda: client.transact_get_items(TransactItems=[
            {"Get": {"TableName": TABLE, "Key": KEY}},
            {"Get": {"TableName": TABLE, "Key": {"pk": {"S": "t"}, "sk": {"S": "1"}}}}]),
        "delete": lambda: client.delete_item(TableName=TABLE, Key=KEY, ReturnValues="ALL_OLD"),
        "after": lambda: client.scan(TableName=TABLE),
    }  # fmt: skip
    return {name: outcome(call) for name, call in calls.items()}


@pytest.fixture(scope="module")
def answers():
    found = {}
    for fast in (True, False):
        process, client = emulator(fast)
        try:
            create_table(client)
            found[fast] = scenario(client)
        finally:
            process.terminate()
            process.wait(timeout=10)
    return found


def test_every_call_answers_as_moto_does(answers):
    fast, moto = answers[True], answers[False]
    for name in moto:
        assert fast[name] == moto[name], name


def test_the_scenario_reaches_errors_and_binary_values(answers):
    moto = answers[False]
    assert moto["get"]["Item"]["b"] == {"B": b"\x00\xffbinary"}
    assert "error" not in moto["transaction"]
    assert moto["transaction refused"]["reasons"][1]["Code"] == "ConditionalCheckFailed"
    assert moto["transaction refused"]["reasons"][1]["Item"] == {"pk": {"S": "t"},
                                                                 "sk": {"S": "1"}}  # fmt: skip
    for name in ("get bad key", "get no table", "query bad", "update bad expression",
                 "update refused", "put refused", "transaction twice on one item"):  # fmt: skip
        assert "error" in moto[name], name
