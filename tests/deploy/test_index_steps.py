"""Deploying over a stack whose tables change several global secondary indexes at once
(deploy/index_steps.py): CloudFormation takes one index per table per update, so the update
is planned as steps, each a valid template one index away from the one before."""

import copy
import itertools

import pytest

from deploy import index_steps
from tests.deploy.template import fragment

OLD = {"event-part-index": ("event-index", "event_id"),
       "seller-part-index": ("seller-index", "seller_id"),
       "organizer-part-index": ("organizer-index", "organizer_id")}  # fmt: skip


def before_the_part_indexes():
    """The template as deployed before hot on-sales: orders and tickets (BookingsTable)
    indexed by plain
    event, seller and organizer ids, and older code (marked here by its Metadata)."""
    live = copy.deepcopy(fragment())
    live["Metadata"] = {"code": "old"}
    for table in ("OrdersTable", "BookingsTable"):
        properties = live["Resources"][table]["Properties"]
        for index in properties["GlobalSecondaryIndexes"]:
            if index["IndexName"] in OLD:
                name, attribute = OLD[index["IndexName"]]
                index["IndexName"] = name
                index["KeySchema"][0]["AttributeName"] = attribute
        properties["AttributeDefinitions"] = [
            {"AttributeName": a["AttributeName"].replace("_part", "_id"),
             "AttributeType": a["AttributeType"]}
            for a in properties["AttributeDefinitions"]
        ]  # fmt: skip
    return live


def indexes(template, table):
    return template["Resources"][table]["Properties"].get("GlobalSecondaryIndexes", [])


def names(template, table):
    return {i["IndexName"] for i in indexes(template, table)}


def tables(template):
    return [n for n, r in template["Resources"].items() if r.get("Type") == index_steps.TABLE]


def test_fragment_has_the_tables_this_test_changes():
    assert {"OrdersTable", "BookingsTable"} <= set(tables(fragment()))
    assert set(OLD) <= names(fragment(), "OrdersTable")


def test_three_indexes_replaced_go_one_a_table_a_step_old_code_first():
    live, target = before_the_part_indexes(), fragment()
    steps = index_steps.plan(live, target)
    path = [live, *steps, target]
    # three added under the old code, the new code with both sets, two drops (the third is
    # the target itself)
    assert len(steps) == 3 + 1 + 2
    for before, after in itertools.pairwise(path):
        for table in tables(target):
            assert len(names(before, table) ^ names(after, table)) <= 1, table
    for step in path:
        for table in tables(target):
            properties = step["Resources"][table]["Properties"]
            keys = [properties["KeySchema"], *(i["KeySchema"] for i in indexes(step, table))]
            used = {k["AttributeName"] for schema in keys for k in schema}
            defined = [a["AttributeName"] for a in properties["AttributeDefinitions"]]
            assert sorted(defined) == sorted(used), table  # DynamoDB refuses any other
    # The old code runs until every new index is there; the new code starts with both sets.
    assert [s.get("Metadata") for s in steps] == [{"code": "old"}] * 3 + [None] * 3
    both = names(steps[3], "OrdersTable")
    assert set(OLD) <= both and {n for n, _ in OLD.values()} <= both
    # Nothing but the indexes differs from the template of the code that runs.
    for step, code in zip(steps, [live] * 3 + [target] * 3, strict=True):
        for name in step["Resources"]:
            if name not in ("OrdersTable", "BookingsTable"):
                assert step["Resources"][name] == code["Resources"][name]


def test_one_index_a_table_at_most_needs_no_steps():
    target = fragment()
    assert index_steps.plan(target, target) == []
    live = copy.deepcopy(target)
    live["Resources"]["OrdersTable"]["Properties"]["GlobalSecondaryIndexes"].pop()
    assert index_steps.plan(live, target) == []


def test_an_index_redefined_under_its_own_name_is_refused():
    live, target = before_the_part_indexes(), copy.deepcopy(fragment())
    orders = target["Resources"]["OrdersTable"]["Properties"]
    orders["GlobalSecondaryIndexes"][-1]["Projection"] = {"ProjectionType": "KEYS_ONLY"}
    with pytest.raises(index_steps.PlanError, match="rename it"):
        index_steps.plan(live, target)


def test_a_stack_not_yet_created_needs_no_steps(aws_mock, tmp_path):
    assert index_steps.live_template("events-api-nowhere") is None
    assert index_steps.main(["events-api-nowhere", "unread.yaml", str(tmp_path)]) == 0
    assert list(tmp_path.iterdir()) == []
