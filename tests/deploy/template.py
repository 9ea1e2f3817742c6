"""The deployment fragment as data: CloudFormation's short tags (!Ref, !Sub) read as the
long forms ({"Ref": ...}, {"Fn::Sub": ...}) with the loader `chalice package` itself uses."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from chalice.package import YAMLTemplateSerializer

PROJECT_DIR = Path(__file__).resolve().parents[2]
FRAGMENT = PROJECT_DIR / "deploy" / "template.yaml"
POLICIES = {
    "APIHandler": PROJECT_DIR / ".chalice" / "policy-api.json",
    "BearerAuth": PROJECT_DIR / ".chalice" / "policy-authorizer.json",
    "ChangesConsumer": PROJECT_DIR / ".chalice" / "policy-consumer.json",
    "SideEffects": PROJECT_DIR / ".chalice" / "policy-side-effects.json",
    "WebhookRetries": PROJECT_DIR / ".chalice" / "policy-retries.json",
    "OrderExpiry": PROJECT_DIR / ".chalice" / "policy-expiry.json",
}


@cache
def fragment() -> dict[str, Any]:
    return YAMLTemplateSerializer().load_template(FRAGMENT.read_text())


def resources_of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in fragment()["Resources"].items() if r.get("Type") == kind}


def table_base_name(resource: dict[str, Any]) -> str:
    """ "${TablePrefix}users" -> "users"."""
    name = resource["Properties"]["TableName"]["Fn::Sub"]
    assert name.startswith("${TablePrefix}"), name
    return name.removeprefix("${TablePrefix}")


def policy(function: str) -> dict[str, Any]:
    return json.loads(POLICIES[function].read_text())
