"""The emulator's model of DynamoDB's partition limits (devstack/partitions.py): units charged
per partition key as DynamoDB charges them, and the real error shapes past them. A fake clock
makes every case exact."""

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from devstack import partitions

TABLE = "stock"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def client():
    with mock_aws():
        # No SDK retries: each call is one request to the model.
        once = Config(retries={"max_attempts": 1, "mode": "standard"})
        dynamodb = boto3.client("dynamodb", region_name="us-east-1", config=once)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "event", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "event-index",
                "KeySchema": [{"AttributeName": "event", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }],
            BillingMode="PAY_PER_REQUEST",
        )  # fmt: skip
        yield dynamodb
    partitions.install(None)


def model(clock, spec):
    return partitions.install(partitions.parse(spec), clock=clock)


def take(client, key, n=1):
    return client.transact_write_items(TransactItems=[{"Update": {
        "TableName": TABLE, "Key": {"pk": {"S": key}},
        "UpdateExpression": "ADD sold :n", "ExpressionAttributeValues": {":n": {"N": str(n)}},
    }}])  # fmt: skip


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], [r["Code"] for r in response.get("CancellationReasons", [])]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, None),
        ("", None),
        ("off", None),
        ("aws", partitions.Limits(wcu=1000, rcu=3000, table_wcu=40_000, table_rcu=40_000)),
        ("wcu:20,rcu:60", partitions.Limits(wcu=20, rcu=60)),
        ("wcu:20, rcu:60, conflict_ms:5, throttle_rate:0.1, seed:7",
         partitions.Limits(wcu=20, rcu=60, conflict_ms=5, throttle_rate=0.1, seed=7)),
    ],
)  # fmt: skip
def test_specs(spec, expected):
    assert partitions.parse(spec) == expected


@pytest.mark.parametrize(
    "spec", ["wcu:20", "wcu=20,rcu:60", "wcu:x,rcu:1", "wcu:-1,rcu:1", "wcu:1,rcu:1,cpu:3",
             "wcu:0,rcu:5", "wcu:nan,rcu:1"],
)  # fmt: skip
def test_malformed_specs_are_refused(spec):
    with pytest.raises(ValueError, match="DYNAMODB_LIMITS"):
        partitions.parse(spec)


def test_one_key_takes_its_rate_of_transactions_and_another_key_its_own(client, clock):
    model(clock, "wcu:10,rcu:30,conflict_ms:0")  # 2 units a transactional write: 5 a second

    for _ in range(5):
        take(client, "pool")
    throttled = error_of(lambda: take(client, "pool"))
    take(client, "pool-shard-2")  # another partition key: its own bucket

    assert throttled == ("TransactionCanceledException", ["ThrottlingError"])
    clock.now += 0.2  # a fifth of a second refills 2 units: one more transaction
    take(client, "pool")
    assert error_of(lambda: take(client, "pool"))[0] == "TransactionCanceledException"
    got = client.get_item(TableName=TABLE, Key={"pk": {"S": "pool"}}, ConsistentRead=True)
    assert got["Item"]["sold"] == {"N": "6"}  # the refused ones wrote nothing


def test_a_single_write_past_the_rate_is_provisioned_throughput_exceeded(client, clock):
    model(clock, "wcu:2,rcu:30")
    put = lambda: client.put_item(TableName=TABLE, Item={"pk": {"S": "k"}})  # noqa: E731

    put()
    put()

    assert error_of(put) == ("ProvisionedThroughputExceededException", [])


def test_items_are_charged_per_kilobyte(client, clock):
    partitions_model = model(clock, "wcu:100,rcu:300")
    big = {"pk": {"S": "big"}, "blob": {"S": "x" * 3000}}  # 3 KB: 3 units

    client.put_item(TableName=TABLE, Item=big)
    client.get_item(TableName=TABLE, Key={"pk": {"S": "big"}}, ConsistentRead=True)  # 1 unit
    client.get_item(TableName=TABLE, Key={"pk": {"S": "big"}})  # eventually consistent: half

    assert partitions_model.stats["wcu"] == 3
    assert partitions_model.stats["rcu"] == 1.5


def test_a_transaction_holds_its_items_for_the_conflict_window(client, clock):
    model(clock, "wcu:1000,rcu:3000,conflict_ms:5")
    take(client, "pool")

    clock.now += 0.001
    conflicted = error_of(lambda: client.transact_write_items(TransactItems=[
        {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "other"}},
                    "UpdateExpression": "SET x = :x",
                    "ExpressionAttributeValues": {":x": {"N": "1"}}}},
        {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "pool"}},
                    "UpdateExpression": "SET x = :x",
                    "ExpressionAttributeValues": {":x": {"N": "1"}}}},
    ]))  # fmt: skip
    single = error_of(lambda: client.put_item(TableName=TABLE, Item={"pk": {"S": "pool"}}))
    clock.now += 0.005

    assert conflicted == ("TransactionCanceledException", ["None", "TransactionConflict"])
    assert single == ("TransactionConflictException", [])
    take(client, "pool")  # the window has passed


def test_a_hot_index_key_throttles_writes_of_many_items(client, clock):
    # Orders of one event with the event as an index's key: every write lands on that index's
    # one partition key, whatever the orders' own keys.
    model(clock, "wcu:3,rcu:30")

    for n in range(3):
        client.put_item(TableName=TABLE, Item={"pk": {"S": f"order-{n}"}, "event": {"S": "e1"}})
    hot = error_of(
        lambda: client.put_item(
            TableName=TABLE, Item={"pk": {"S": "order-9"}, "event": {"S": "e1"}}
        )
    )
    client.put_item(TableName=TABLE, Item={"pk": {"S": "order-10"}, "event": {"S": "e2"}})

    assert hot == ("ProvisionedThroughputExceededException", [])


def test_a_throttled_part_of_a_batch_read_comes_back_unprocessed(client, clock):
    model(clock, "wcu:100,rcu:1")
    for key in ("a", "b"):
        client.put_item(TableName=TABLE, Item={"pk": {"S": key}})
    client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}}, ConsistentRead=True)  # a: empty

    answer = client.batch_get_item(RequestItems={TABLE: {
        "Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}], "ConsistentRead": True}})  # fmt: skip

    assert [i["pk"]["S"] for i in answer["Responses"][TABLE]] == ["b"]
    assert answer["UnprocessedKeys"][TABLE]["Keys"] == [{"pk": {"S": "a"}}]
    everything_throttled = error_of(lambda: client.batch_get_item(RequestItems={TABLE: {
        "Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}], "ConsistentRead": True}}))  # fmt: skip
    assert everything_throttled == ("ProvisionedThroughputExceededException", [])


def test_a_query_is_charged_by_the_size_of_its_answer_to_the_key_it_read(client, clock):
    partitions_model = model(clock, "wcu:1000,rcu:4")
    for n in range(4):
        client.put_item(TableName=TABLE, Item={"pk": {"S": f"o{n}"}, "event": {"S": "e1"},
                                               "blob": {"S": "x" * 4000}})  # fmt: skip
    query = lambda: client.query(  # noqa: E731
        TableName=TABLE,
        IndexName="event-index",
        KeyConditionExpression="#e = :e",
        ExpressionAttributeNames={"#e": "event"},
        ExpressionAttributeValues={":e": {"S": "e1"}},
    )

    assert len(query()["Items"]) == 4  # 16 KB eventually consistent: 2 units, in debt after
    assert partitions_model.stats["rcu"] == 2
    query()  # 2 of 4 left... now 0: the next one waits for the refill
    assert error_of(query) == ("ProvisionedThroughputExceededException", [])
    clock.now += 1
    query()


def test_random_faults_are_seeded(client, clock):
    def outcomes():
        partitions_model = model(clock, "wcu:1000,rcu:3000,conflict_ms:0,conflict_rate:0.3,"
                                        "throttle_rate:0.3,seed:5")  # fmt: skip
        seen = []
        for n in range(30):
            try:
                take(client, f"k{n}")
                seen.append("ok")
            except ClientError as exc:
                seen.append(exc.response["CancellationReasons"][0]["Code"])
        return seen, partitions_model.stats

    first, stats = outcomes()
    again, _ = outcomes()

    assert first == again
    assert {"ok", "TransactionConflict", "ThrottlingError"} <= set(first)
    assert stats["TransactionCanceledException"] == first.count("TransactionConflict") + (
        first.count("ThrottlingError"))  # fmt: skip


def test_without_a_model_nothing_is_charged(client, clock):
    model(clock, None)
    for _ in range(50):
        take(client, "pool")


def test_a_suspended_model_charges_nothing_and_comes_back(client, clock):
    partitions_model = model(clock, "wcu:2,rcu:30,conflict_ms:0")

    with partitions.suspended():
        for _ in range(5):
            take(client, "pool")
    take(client, "pool")

    assert partitions_model.stats["wcu"] == 2
    assert error_of(lambda: take(client, "pool"))[0] == "TransactionCanceledException"


def test_the_tables_quota_throttles_many_keys_at_once(client, clock):
    model(clock, "wcu:100,rcu:300,table_wcu:3")

    for n in range(3):
        client.put_item(TableName=TABLE, Item={"pk": {"S": f"key-{n}"}})
    refused = error_of(lambda: client.put_item(TableName=TABLE, Item={"pk": {"S": "key-9"}}))
    clock.now += 1

    assert refused == ("ThrottlingException", [])
    client.put_item(TableName=TABLE, Item={"pk": {"S": "key-9"}})


def test_a_transaction_naming_an_item_twice_is_refused_as_invalid_not_conflicted(client, clock):
    """DynamoDB validates a transaction before anything else: two operations on one item are a
    ValidationException even while that item is held by another transaction."""
    model(clock, "wcu:1000,rcu:3000,conflict_ms:5")
    take(client, "pool")
    update = {"TableName": TABLE, "Key": {"pk": {"S": "pool"}}, "UpdateExpression": "SET x = :x",
              "ExpressionAttributeValues": {":x": {"N": "1"}}}  # fmt: skip
    twice = error_of(lambda: client.transact_write_items(
        TransactItems=[{"Update": update}, {"Update": update}]))  # fmt: skip
    assert twice[0] == "ValidationException"
