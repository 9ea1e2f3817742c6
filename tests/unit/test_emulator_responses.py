"""The local emulator's plain-JSON DynamoDB answers (devstack/responses.py) against moto's own
serializer: the same calls must read back the same through botocore."""

import boto3
import pytest
from moto import mock_aws

from devstack import responses
from tests.unit.emulator_table import TABLE, create_table

ITEM = {
    "pk": {"S": "p"},
    "sk": {"S": "s1"},
    "n": {"N": "-12.50"},
    "b": {"B": b"\x00\xffbinary"},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "names": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b"x", b"y"]},
    "map": {"M": {"inner": {"L": [{"S": "é"}, {"N": "3"}, {"M": {}}]}}},
}


def calls(client):
    key = {"pk": {"S": "p"}, "sk": {"S": "s1"}}
    return {
        "get": client.get_item(TableName=TABLE, Key=key, ReturnConsumedCapacity="TOTAL"),
        "missing": client.get_item(TableName=TABLE, Key={"pk": {"S": "no"}, "sk": {"S": "no"}}),
        "batch": client.batch_get_item(
            RequestItems={TABLE: {"Keys": [key, {"pk": {"S": "p"}, "sk": {"S": "s2"}}]}}
        ),
        "query page": client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            Limit=1,
        ),
        "scan": client.scan(TableName=TABLE),
        "update": client.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        ),
        "delete": client.delete_item(TableName=TABLE, Key=key, ReturnValues="ALL_OLD"),
    }


def run(*, ours):
    # The suite runs with ours installed (tests/conftest.py): each side sets its own, then
    # puts back what was there.
    before = responses.is_installed()
    (responses.install if ours else responses.uninstall)()
    try:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            create_table(client)
            client.put_item(TableName=TABLE, Item=ITEM)
            client.put_item(TableName=TABLE, Item={**ITEM, "sk": {"S": "s2"}})
            answers = calls(client)
            with pytest.raises(client.exceptions.ConditionalCheckFailedException):
                client.put_item(
                    TableName=TABLE,
                    Item={**ITEM, "sk": {"S": "s2"}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
    finally:
        (responses.install if before else responses.uninstall)()
    for answer in answers.values():
        answer.pop("ResponseMetadata")
    return answers


def test_answers_read_back_the_same_as_through_motos_serializer():
    ours, theirs = run(ours=True), run(ours=False)
    assert ours == theirs
    assert ours["get"]["Item"]["b"] == {"B": b"\x00\xffbinary"}
    assert "LastEvaluatedKey" in ours["query page"]
