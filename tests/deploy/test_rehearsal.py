"""A deployment rehearsal: the template's tables and queues, created by CloudFormation (moto's),
serve the setup step and a whole register -> login -> event -> booking flow, its emails sent
through the side-effects queue. If a declared table lacked a
key or an index the code uses, a step here fails."""

from __future__ import annotations

import json
import re

import boto3
import pytest
from chalice.test import Client

from chalicelib.bootstrap import bootstrap, verify_sender
from chalicelib.settings import get_settings
from devstack.gateway import ContractGateway
from tests.conftest import Api, buyer_body, sent_emails
from tests.deploy.template import fragment, resources_of_type


def tables_stack() -> dict:
    """The fragment's tables as a stack of their own (the functions and API need a real AWS)."""
    whole = fragment()
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {name: whole["Parameters"][name] for name in ("Stage", "TablePrefix")},
        "Conditions": {"IsProd": whole["Conditions"]["IsProd"]},
        "Resources": {
            **resources_of_type("AWS::DynamoDB::Table"),
            **resources_of_type("AWS::SQS::Queue"),
        },
        "Outputs": {"SideEffectsQueueUrl": {"Value": {"Ref": "SideEffectsQueue"}}},
    }


@pytest.fixture
def deployed_settings(monkeypatch):
    """Settings read again with what the test sets, and again after it."""
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def test_the_templates_tables_serve_the_setup_step_and_a_whole_flow(
    aws_mock, chalice_app, deployed_settings
):
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(
        StackName="events-api-rehearsal",
        TemplateBody=json.dumps(tables_stack()),
        Parameters=[
            {"ParameterKey": "Stage", "ParameterValue": "prod"},
            {"ParameterKey": "TablePrefix", "ParameterValue": get_settings().table_prefix},
        ],
    )
    stack = cloudformation.describe_stacks(StackName="events-api-rehearsal")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    # What the template gives each function (the queue is not looked up by name deployed).
    [queue_url] = [o["OutputValue"] for o in stack["Outputs"]]
    deployed_settings.setenv("SIDE_EFFECTS_QUEUE_URL", queue_url)
    get_settings.cache_clear()

    report = bootstrap(get_settings())
    verify_sender(get_settings())

    assert report.tables_created == []  # the stack made every table the code needs
    assert report.admin_created
    with Client(chalice_app, stage_name="prod") as client:
        client.http._local_gateway = ContractGateway(chalice_app, client.http._config)
        api = Api(client)
        registered = api.post(
            "/register",
            {"email": "org@example.com", "password": "password1", "name": "Org",
             "role": "organizer"},
        )  # fmt: skip
        token = re.search(r"/activate/([A-Za-z0-9_-]+)", sent_emails()[-1].body).group(1)
        activated = api.get(f"/activate/{token}")
        login = api.post("/login", {"email": "org@example.com", "password": "password1"})
        organizer = login.json_body["auth_token"]
        event = api.post(
            "/events",
            {"title": "Rehearsal", "time": "2031-01-01T20:00:00Z", "price": "10",
             "currency_code": "EUR", "number_of_tickets": 5},
            as_=organizer,
        )  # fmt: skip
        event_id = event.json_body["event"]["id"]
        booked = api.post("/sold-tickets", {"event_id": event_id, "buyer": buyer_body()})
        listed = api.get(f"/sold-tickets?event_id={event_id}", as_=organizer)
        events = api.get("/events?from=2030-01-01")
        offers = api.get(f"/events/{event_id}/offers")
        health = api.get("/health")

    assert (registered.status_code, activated.status_code, login.status_code) == (201, 200, 200)
    assert (event.status_code, booked.status_code) == (201, 201)
    assert [t["id"] for t in listed.json_body["tickets"]] == [booked.json_body["tickets"][0]["id"]]
    assert [e["id"] for e in events.json_body["events"]] == [event_id]
    assert offers.json_body["offers"][0]["available"] == 4
    assert health.status_code == 200
