"""The table set: created idempotently, with an index for every filtered list."""

import boto3
import pytest

from chalicelib.db.tables import MODELS, create_tables, unavailable_tables

# Each filtered list of the API contract must be a Query on one of these, never a Scan.
EXPECTED_INDEXES = {
    "test-users": {
        "role-index": ("role", "created_at"),
        "blocked-index": ("blocked_list", "created_at"),
    },
    "test-uniques": {},
    "test-events": {
        "time-index": ("catalog", "time"),
        "organizer-index": ("organizer_id", "time"),
    },
    "test-allocations": {"seller-index": ("seller_id", "event_id")},
    "test-bookings": {
        "event-part-index": ("event_part", "created_at"),
        "seller-part-index": ("seller_part", "created_at"),
        "organizer-part-index": ("organizer_part", "created_at"),
        "buyer-index": ("buyer_id", "created_at"),
        "revoked-index": ("revoked_event_id", "cancelled_at"),
        "code-index": ("code",),
        "checkin-index": ("checked_in_event_id", "checked_in_at"),
    },
    "test-buyers": {},
    "test-idempotency": {},
    "test-sending-slots": {},
    "test-link-tokens": {},
    "test-rate-limits": {},
    "test-scanners": {"event-index": ("event_id", "created_at")},
    "test-changes": {
        "audit-index": ("audit_log", "at"),
        "actor-index": ("audit_actor_id", "at"),
        "target-index": ("audit_target_id", "at"),
        "action-index": ("audit_action", "at"),
        "event-index": ("audit_event_id", "at"),
    },
    "test-deliveries": {
        "webhook-index": ("webhook_id", "created_at"),
        "due-index": ("due", "next_attempt_at"),
    },
    "test-webhooks": {
        "owner-index": ("owner_id", "created_at"),
        "role-index": ("owner_role", "created_at"),
    },
    "test-ticket-types": {},
    "test-vouchers": {},
    "test-queue-counters": {},
    "test-stock-shards": {},
    "test-waiting-list": {
        "queue-index": ("queue", "position"),
        "event-index": ("event_id", "position"),
    },
    "test-orders": {
        "event-part-index": ("event_part", "created_at"),
        "seller-part-index": ("seller_part", "created_at"),
        "organizer-part-index": ("organizer_part", "created_at"),
        "due-index": ("due_minute", "expires_at"),
    },
}


def _describe(name):
    return boto3.client("dynamodb").describe_table(TableName=name)["Table"]


def test_create_tables_creates_every_table_once(aws_mock):
    created = create_tables()

    assert sorted(created) == sorted(EXPECTED_INDEXES)
    assert create_tables() == []
    assert unavailable_tables() == []


def test_tables_are_on_demand_with_the_indexes_every_list_needs(aws_mock):
    create_tables()

    for name, indexes in EXPECTED_INDEXES.items():
        table = _describe(name)
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        found = {
            index["IndexName"]: tuple(key["AttributeName"] for key in index["KeySchema"])
            for index in table.get("GlobalSecondaryIndexes", [])
        }
        assert found == indexes, name


@pytest.mark.parametrize("table", ["idempotency", "link-tokens", "rate-limits", "changes"])
def test_records_that_expire_do_so_through_dynamodb_ttl(aws_mock, table):
    create_tables()

    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=f"test-{table}")

    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_missing_table_is_reported_unavailable(aws_mock, model):
    create_tables()
    model.delete_table()

    assert unavailable_tables() == [model.Meta.table_name]
