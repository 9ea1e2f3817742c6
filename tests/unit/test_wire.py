"""chalicelib.db.wire reads DynamoDB's answers exactly as botocore's own parser does: the same
generated answers go through both, and the results must be equal."""

from __future__ import annotations

import base64
import json

import botocore.session
from botocore.parsers import create_parser
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.db import base, wire

MODEL = botocore.session.get_session().get_service_model("dynamodb")
text = st.text(max_size=8)
blob = st.binary(max_size=8).map(lambda b: base64.b64encode(b).decode())
scalars = st.one_of(
    st.builds(lambda v: {"S": v}, text),
    st.builds(lambda v: {"N": v}, st.integers().map(str)),
    st.builds(lambda v: {"BOOL": v}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda v: {"SS": v}, st.lists(text, max_size=3)),
    st.builds(lambda v: {"NS": v}, st.lists(st.integers().map(str), max_size=3)),
    st.builds(lambda v: {"B": v}, blob),
    st.builds(lambda v: {"BS": v}, st.lists(blob, max_size=3)),
)
# What a well-behaved DynamoDB never sends, but botocore still reads in its own way.
odd = st.one_of(
    st.none(),
    st.just({}),
    st.just({"S": None}),
    st.just({"S": "a", "N": "1"}),
    st.just({"FUTURE": "x"}),
    st.just({"SS": "not a list"}),
    st.just({"BS": [None]}),
)
values = st.recursive(
    st.one_of(scalars, odd),
    lambda inner: st.one_of(
        st.builds(lambda v: {"M": v}, st.dictionaries(text, inner, max_size=3)),
        st.builds(lambda v: {"L": v}, st.lists(inner, max_size=3)),
    ),
    max_leaves=12,
)
items = st.dictionaries(text, values, max_size=4)


def both(operation: str, answer: dict) -> tuple[dict, dict]:
    response = {
        "body": json.dumps(answer).encode(),
        "headers": {"x-amzn-requestid": "r"},
        "status_code": 200,
    }
    shape = MODEL.operation_model(operation).output_shape
    return (
        create_parser("json").parse(dict(response), shape),
        wire.DynamoDBParser().parse(dict(response), shape),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(items, max_size=4), items)
def test_query_and_get_item_answers_read_as_botocore_reads_them(found, key):
    query = {"Items": found, "Count": len(found), "LastEvaluatedKey": key}

    expected, fast = both("Query", query)
    assert fast == expected
    expected, fast = both("GetItem", {"Item": key})
    assert fast == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(items, max_size=3), st.lists(items, max_size=2))
def test_batch_get_answers_read_as_botocore_reads_them(found, unprocessed):
    answer = {
        "Responses": {"events": found},
        "UnprocessedKeys": {"events": {"Keys": unprocessed, "ConsistentRead": True}},
        "ConsumedCapacity": [{"TableName": "events", "CapacityUnits": 1.5}],
    }

    expected, fast = both("BatchGetItem", answer)
    assert fast == expected


def test_an_error_answer_reads_the_same():
    response = {
        "body": json.dumps(
            {"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
             "message": "Transaction cancelled",
             "CancellationReasons": [{"Code": "ConditionalCheckFailed",
                                      "Item": {"id": {"S": "x"}, "b": {"B": "AAE="}}}]}
        ).encode(),
        "headers": {},
        "status_code": 400,
    }  # fmt: skip
    shape = MODEL.operation_model("TransactWriteItems").output_shape

    expected = create_parser("json").parse(dict(response), shape)
    assert wire.DynamoDBParser().parse(dict(response), shape) == expected


def test_the_shared_connection_reads_with_it():
    parser = base._shared_connection().client._endpoint._response_parser_factory
    assert isinstance(parser, wire.ParserFactory)
