"""The local emulator's TransactWriteItems (devstack/transactions.py) against moto's own: every
scenario is run under both, and both must leave the same items, the same stream records and
the same error."""

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from devstack import transactions
from tests.unit.emulator_table import TABLE, create_table


def run(scenario, *, ours):
    # The suite runs with ours installed (tests/conftest.py): each side sets its own, then
    # puts back what was there.
    before = transactions.is_installed()
    (transactions.install if ours else transactions.uninstall)()
    try:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            create_table(client, stream=True)
            for n in range(3):
                client.put_item(
                    TableName=TABLE,
                    Item={"pk": {"S": "p"}, "sk": {"S": f"s{n}"}, "count": {"N": "1"},
                          "name": {"S": "x"}},
                )  # fmt: skip
            error = None
            try:
                client.transact_write_items(TransactItems=scenario)
            except ClientError as exc:
                error = (
                    exc.response["Error"]["Code"],
                    [r.get("Code") for r in exc.response.get("CancellationReasons", [])],
                )
            items = sorted(
                client.scan(TableName=TABLE)["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"])
            )
            shard = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[TABLE].stream_shard
            records = [
                (r["eventName"], r["dynamodb"]["Keys"]["sk"]["S"])
                for r in (record.to_json() for record in shard.items)
            ]
            return items, records, error
    finally:
        (transactions.install if before else transactions.uninstall)()


def key(sk, pk="p"):
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def put(sk, condition=None, **extra):
    op = {"TableName": TABLE, "Item": {**key(sk), "count": {"N": "5"}, **extra}}
    if condition:
        op["ConditionExpression"] = condition
    return {"Put": op}


def add(sk, n, condition=None, attribute="count"):
    op = {
        "TableName": TABLE,
        "Key": key(sk),
        "UpdateExpression": "ADD #a :n",
        "ExpressionAttributeNames": {"#a": attribute},
        "ExpressionAttributeValues": {":n": {"N": str(n)}},
    }
    if condition:
        op["ConditionExpression"] = condition
    return {"Update": op}


def delete(sk, condition=None):
    op = {"TableName": TABLE, "Key": key(sk)}
    if condition:
        op["ConditionExpression"] = condition
    return {"Delete": op}


def check(sk, condition):
    op = {"TableName": TABLE, "Key": key(sk), "ConditionExpression": condition}
    return {"ConditionCheck": op}


SCENARIOS = {
    "all hold": [add("s0", -1, "#a >= :n"), put("new", "attribute_not_exists(pk)"), delete("s2")],
    "last condition fails": [add("s0", 1), put("new"), delete("s2", "attribute_not_exists(pk)")],
    "first condition fails": [put("s1", "attribute_not_exists(pk)"), add("s0", 1), delete("s2")],
    "a condition check fails": [add("s0", 1), check("s1", "attribute_not_exists(pk)")],
    "a condition check holds": [add("s0", 1), check("s1", "attribute_exists(pk)")],
    "the same item twice": [add("s0", 1), delete("s0")],
    "a write fails after others": [add("s0", 1), put("new"), add("s1", 1, attribute="name")],
    "a new item with a new hash key, then a failure": [
        {"Put": {"TableName": TABLE, "Item": key("a", pk="other")}},
        put("s1", "attribute_not_exists(pk)"),
    ],
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_same_outcome_as_motos_own(name):
    assert run(SCENARIOS[name], ours=True) == run(SCENARIOS[name], ours=False)


def test_a_cancelled_transaction_leaves_no_stream_record():
    _, records, error = run(SCENARIOS["last condition fails"], ours=True)
    assert error[0] == "TransactionCanceledException"
    assert [sk for _, sk in records] == ["s0", "s1", "s2"]  # only the three setup puts
