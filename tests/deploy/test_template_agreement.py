"""The deployment fragment agrees with the code: the tables the models define, the settings the
functions read."""

from __future__ import annotations

import re

import pytest
from pynamodb.attributes import TTLAttribute

from chalicelib.db.tables import MODELS
from chalicelib.settings import REQUIRED_OUTSIDE_LOCAL, SECRETS, get_settings
from tests.deploy.template import PROJECT_DIR, fragment, resources_of_type, table_base_name

# The tables whose changes feed webhooks and emails through DynamoDB Streams.
STREAMED = {"users", "events", "allocations", "bookings"}


def model_table(model) -> dict:
    """What a pynamodb model needs from its table, in CloudFormation's words."""
    schema = model._get_schema()
    ttl = [a.attr_name for a in model.get_attributes().values() if isinstance(a, TTLAttribute)]
    return {
        "KeySchema": sorted((k["AttributeName"], k["KeyType"]) for k in schema["key_schema"]),
        "AttributeDefinitions": sorted(
            (a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]
        ),
        "GlobalSecondaryIndexes": sorted(
            (
                index["index_name"],
                tuple(sorted((k["AttributeName"], k["KeyType"]) for k in index["key_schema"])),
                index["projection"]["ProjectionType"],
            )
            for index in schema.get("global_secondary_indexes", [])
        ),
        "TTL": ttl[0] if ttl else None,
    }


def template_table(properties: dict) -> dict:
    ttl = properties.get("TimeToLiveSpecification")
    return {
        "KeySchema": sorted((k["AttributeName"], k["KeyType"]) for k in properties["KeySchema"]),
        "AttributeDefinitions": sorted(
            (a["AttributeName"], a["AttributeType"]) for a in properties["AttributeDefinitions"]
        ),
        "GlobalSecondaryIndexes": sorted(
            (
                index["IndexName"],
                tuple(sorted((k["AttributeName"], k["KeyType"]) for k in index["KeySchema"])),
                index["Projection"]["ProjectionType"],
            )
            for index in properties.get("GlobalSecondaryIndexes", [])
        ),
        "TTL": ttl["AttributeName"] if ttl and ttl.get("Enabled") else None,
    }


def template_tables() -> dict[str, dict]:
    return {table_base_name(r): r for r in resources_of_type("AWS::DynamoDB::Table").values()}


def model_base_name(model) -> str:
    return model.Meta.table_name.removeprefix(get_settings().table_prefix)


def test_every_model_has_its_table_in_the_template_and_back():
    assert {model_base_name(m) for m in MODELS} == set(template_tables())


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_table_has_the_keys_indexes_and_ttl_its_model_needs(model):
    declared = template_tables()[model_base_name(model)]["Properties"]

    assert template_table(declared) == model_table(model)


@pytest.mark.parametrize("name", sorted(template_tables()))
def test_each_table_is_on_demand_encrypted_recoverable_kept_and_protected_in_prod(name):
    table = template_tables()[name]
    properties = table["Properties"]

    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    assert properties["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    streamed = properties.get("StreamSpecification", {}).get("StreamViewType")
    assert (streamed == "NEW_AND_OLD_IMAGES") == (name in STREAMED)


def settings_read_by_the_code() -> set[str]:
    source = (PROJECT_DIR / "chalicelib" / "settings.py").read_text()
    return set(re.findall(r'get\(\s*"([A-Z][A-Z0-9_]+)"', source))


FUNCTIONS = ["APIHandler", "BearerAuth", "ChangesConsumer", "SideEffects", "WebhookRetries",
             "OrderExpiry"]  # fmt: skip


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_gets_every_setting_a_deployment_requires(function):
    variables = fragment()["Resources"][function]["Properties"]["Environment"]["Variables"]
    given = set(variables)

    for name in REQUIRED_OUTSIDE_LOCAL:
        assert name in given or (name in SECRETS and f"{name}_PARAMETER" in given), name
    assert "JWT_SECRET" not in given  # secrets travel by parameter name only
    assert "TABLE_PREFIX" in given
    # Nothing the code would not read (a typo would silently fall back to a default).
    readable = settings_read_by_the_code() | {f"{secret}_PARAMETER" for secret in SECRETS}
    assert given <= readable, given - readable


def test_only_the_api_function_gets_the_ticket_signing_keys():
    resources = fragment()["Resources"]
    api = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    authorizer = resources["BearerAuth"]["Properties"]["Environment"]["Variables"]

    assert "TICKET_KEYS_PARAMETER" in api
    assert not {"TICKET_KEYS", "TICKET_KEYS_PARAMETER"} & set(authorizer)


def test_the_api_function_gets_the_sign_in_providers_settings():
    variables = fragment()["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]

    for name in ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET_PARAMETER", "GITHUB_CLIENT_ID",
                 "GITHUB_CLIENT_SECRET_PARAMETER"):  # fmt: skip
        assert name in variables


GATEWAY_RESPONSES = {
    "UNAUTHORIZED": ("401", "unauthorized"),
    "ACCESS_DENIED": ("403", "forbidden"),
    "MISSING_AUTHENTICATION_TOKEN": ("404", "not_found"),
    "THROTTLED": ("429", "throttled"),
    "REQUEST_TOO_LARGE": ("413", "payload_too_large"),
    "DEFAULT_4XX": (None, "invalid_request"),
    "DEFAULT_5XX": (None, "internal_error"),
}


@pytest.mark.parametrize(("kind", "expected"), GATEWAY_RESPONSES.items())
def test_api_gateways_own_answers_use_the_error_shape(kind, expected):
    import json

    body = fragment()["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    response = body["x-amazon-apigateway-gateway-responses"][kind]
    status, code = expected

    assert response.get("statusCode") == status
    shown = json.loads(response["responseTemplates"]["application/json"])
    assert shown["code"] == code
    assert shown["request_id"] == "$context.requestId"
    assert isinstance(shown["error"], str) and shown["error"]
    if kind == "UNAUTHORIZED":
        header = response["responseParameters"]["gatewayresponse.header.WWW-Authenticate"]
        assert header == "'Bearer'"


@pytest.mark.parametrize("function", ["APIHandler", "ChangesConsumer", "WebhookRetries"])
def test_the_functions_that_queue_side_effects_are_told_the_queue_and_may_send(function):
    from tests.deploy.template import policy

    variables = fragment()["Resources"][function]["Properties"]["Environment"]["Variables"]
    queue = {"Fn::GetAtt": ["SideEffectsQueue", "Arn"]}

    assert variables["SIDE_EFFECTS_QUEUE_URL"] == {"Ref": "SideEffectsQueue"}
    sends = [s for s in policy(function)["Statement"] if "sqs:SendMessage" in s["Action"]]
    assert any(queue in s["Resource"] for s in sends)


def test_the_side_effects_worker_reads_its_queue_with_partial_batch_responses():
    import json

    from tests.deploy.template import PROJECT_DIR, policy

    resources = fragment()["Resources"]
    source = resources["SideEffects"]["Properties"]["Events"]["SideEffectsSqsEventSource"]
    queue = resources["SideEffectsQueue"]["Properties"]
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    timeouts = {stage["lambda_functions"]["side_effects"]["lambda_timeout"]
                for stage in config["stages"].values()}  # fmt: skip

    assert source["Properties"]["Queue"] == {"Fn::GetAtt": ["SideEffectsQueue", "Arn"]}
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # Lambda's advice: a visibility timeout of six times the function's, or a batch still
    # running would be handed out again.
    assert all(queue["VisibilityTimeout"] >= 6 * timeout for timeout in timeouts)
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["FailedSideEffectsQueue", "Arn"]
    }
    reads = {a for s in policy("SideEffects")["Statement"] for a in s["Action"]
             if a.startswith("sqs:")}  # fmt: skip
    assert reads == {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}


def test_exports_go_to_a_private_bucket_that_forgets_them_and_only_the_api_writes_there():
    from tests.deploy.template import POLICIES, policy

    resources = fragment()["Resources"]
    bucket = resources["ExportsBucket"]["Properties"]
    variables = resources["APIHandler"]["Properties"]["Environment"]["Variables"]

    assert variables["EXPORTS_BUCKET"] == {"Ref": "ExportsBucket"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    [rule] = bucket["LifecycleConfiguration"]["Rules"]
    assert (rule["Status"], rule["ExpirationInDays"]) == ("Enabled", 1)
    # The presigned link is signed by the API's role: it must read what it wrote, nothing else.
    writes = {
        function: {a for s in policy(function)["Statement"] for a in s["Action"]
                   if a.startswith("s3:")}
        for function in POLICIES
    }  # fmt: skip
    assert writes.pop("APIHandler") == {"s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"}
    assert not any(writes.values())
