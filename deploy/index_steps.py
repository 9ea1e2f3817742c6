"""Updating a deployed stack whose tables change several global secondary indexes at once.

DynamoDB creates or deletes one global secondary index per table per update, and
CloudFormation refuses a stack update that asks for more. When the template to deploy adds or
removes more than one on a table of the live stack (hot on-sales gave orders and tickets three
new `*-part-index`es in place of three), `make deploy` first deploys the templates `plan`
returns, then the target:

1. the live template (the code running now) with the new indexes added, one a table a step
   (each waits for its index to be built, while the old code goes on serving);
2. the target's code with the old and the new indexes both (its setup step gives stored items
   the new keys);
3. the target with the old indexes dropped, one a table a step; the last drop is the target.

A step that fails leaves the stack on the step before; `make deploy` again plans from there.
An index kept under the same name but with another definition cannot be stepped (the two
would have to exist at once): `plan` refuses it, to be renamed instead.

    python -m deploy.index_steps STACK TARGET_TEMPLATE OUT_DIR  # prints the steps' files
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

Template = dict[str, Any]
TABLE = "AWS::DynamoDB::Table"


class PlanError(Exception):
    pass


def plan(live: Template, target: Template) -> list[Template]:
    """The templates to deploy, in order, before `target` over a stack running `live`."""
    live_indexes, target_indexes = _indexes(live), _indexes(target)
    added: dict[str, list[dict]] = {}
    dropped: dict[str, list[dict]] = {}
    for table in live_indexes.keys() & target_indexes.keys():
        old, new = live_indexes[table], target_indexes[table]
        for name in old.keys() & new.keys():
            if old[name] != new[name]:
                raise PlanError(f"{table}: index {name} changes its definition; rename it")
        added[table] = [new[name] for name in new if name not in old]
        dropped[table] = [old[name] for name in old if name not in new]
    if all(len(added[t]) + len(dropped[t]) <= 1 for t in added):
        return []
    steps = []
    for k in range(1, max(len(a) for a in added.values()) + 1):
        steps.append(_with_indexes(live, target, {
            t: [*live_indexes[t].values(), *added[t][:k]] for t in added
        }))  # fmt: skip
    for k in range(max(len(d) for d in dropped.values())):  # the last drop is the target
        steps.append(_with_indexes(target, live, {
            t: [*target_indexes[t].values(), *dropped[t][k:]] for t in dropped
        }))  # fmt: skip
    return [s for s, before in zip(steps, [live, *steps], strict=False) if s != before]


def _indexes(template: Template) -> dict[str, dict[str, dict]]:
    return {
        name: {i["IndexName"]: i for i in r.get("Properties", {}).get("GlobalSecondaryIndexes", [])}
        for name, r in template.get("Resources", {}).items()
        if r.get("Type") == TABLE
    }


def _with_indexes(base: Template, other: Template, indexes: dict[str, list[dict]]) -> Template:
    """`base` with these tables' global secondary indexes, and exactly the attribute
    definitions their keys use (DynamoDB refuses a definition no key uses)."""
    step = copy.deepcopy(base)
    for table, wanted in indexes.items():
        properties = _properties(step, table)
        if properties.get("GlobalSecondaryIndexes", []) == wanted:
            continue
        types = {a["AttributeName"]: a["AttributeType"]
                 for template in (other, base)
                 for a in _properties(template, table)["AttributeDefinitions"]}  # fmt: skip
        properties["GlobalSecondaryIndexes"] = copy.deepcopy(wanted)
        keys = [properties["KeySchema"], *(i["KeySchema"] for i in wanted),
                *(i["KeySchema"] for i in properties.get("LocalSecondaryIndexes", []))]  # fmt: skip
        used = sorted({k["AttributeName"] for schema in keys for k in schema})
        properties["AttributeDefinitions"] = [
            {"AttributeName": name, "AttributeType": types[name]} for name in used
        ]
    return step


def _properties(template: Template, table: str) -> dict[str, Any]:
    return template["Resources"][table]["Properties"]


def _load(text: str | dict) -> Template:
    if isinstance(text, dict):
        return text
    from chalice.package import YAMLTemplateSerializer  # reads !Ref, !Sub and the rest

    return YAMLTemplateSerializer().load_template(text)


def live_template(stack: str) -> Template | None:
    """The template the stack was last deployed with, or None when there is no such stack."""
    import boto3
    from botocore.exceptions import ClientError

    try:
        body = boto3.client("cloudformation").get_template(
            StackName=stack, TemplateStage="Original"
        )["TemplateBody"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return _load(body)


def main(argv: list[str]) -> int:
    stack, target_file, out_dir = argv
    live = live_template(stack)
    if live is None:
        return 0  # a new stack creates every index at once
    try:
        steps = plan(live, _load(Path(target_file).read_text()))
    except PlanError as exc:
        print(f"cannot step the index changes: {exc}", file=sys.stderr)
        return 1
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for number, step in enumerate(steps, start=1):
        path = out / f"index-step-{number}.json"
        path.write_text(json.dumps(step))
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
