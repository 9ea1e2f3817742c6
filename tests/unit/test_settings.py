import json

import pytest

from chalicelib.settings import (
    LOCAL_ADMIN_EMAIL,
    LOCAL_ADMIN_PASSWORD,
    SettingsError,
    load_settings,
)

DEPLOYED_SECRETS = {
    "APP_URL": "https://tickets.example.com/",
    "JWT_SECRET": "s" * 40,
    "SES_SENDER": "tickets@example.com",
}
PROD = {"STAGE": "prod", **DEPLOYED_SECRETS}


LOCAL = {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}


def test_the_local_stack_has_safe_local_defaults():
    settings = load_settings(LOCAL)

    assert settings.stage == "dev"
    assert settings.is_local
    assert settings.table_name("users") == "events-api-dev-users"
    assert settings.app_url == "http://127.0.0.1:8000"
    assert settings.admin_email == LOCAL_ADMIN_EMAIL
    assert settings.admin_password == LOCAL_ADMIN_PASSWORD
    assert len(settings.jwt_secret) >= 32
    assert settings.rate_limits_on


def test_local_jwt_secret_is_random_per_process_when_unset():
    assert load_settings(LOCAL).jwt_secret != load_settings(LOCAL).jwt_secret


@pytest.mark.parametrize("endpoint", ["http://localhost:4566", "http://[::1]:4566"])
def test_any_loopback_emulator_is_local(endpoint):
    assert load_settings({"AWS_ENDPOINT_URL": endpoint}).is_local


@pytest.mark.parametrize(
    "env",
    [
        {},  # real AWS, dev stage
        {"AWS_ENDPOINT_URL": "https://dynamodb.eu-west-1.amazonaws.com"},
        {"AWS_ENDPOINT_URL": "http://10.0.0.5:4566"},
        # A Lambda function is never local, whatever its stage or endpoint.
        {**LOCAL, "AWS_LAMBDA_FUNCTION_NAME": "events-api-dev"},
        {**LOCAL, "AWS_LAMBDA_FUNCTION_NAME": "events-api-dev", "AWS_CHALICE_CLI_MODE": "1"},
    ],
)
def test_outside_the_local_stack_no_default_applies(env):
    with pytest.raises(SettingsError, match="APP_URL, JWT_SECRET, SES_SENDER"):
        load_settings(env)

    settings = load_settings({**env, **DEPLOYED_SECRETS})
    assert not settings.is_local
    assert settings.admin_email is None
    assert settings.admin_password is None
    assert settings.jwt_secret == DEPLOYED_SECRETS["JWT_SECRET"]


def test_a_dev_lambda_refuses_a_short_jwt_secret():
    env = {"AWS_LAMBDA_FUNCTION_NAME": "f", **DEPLOYED_SECRETS, "JWT_SECRET": "x" * 31}

    with pytest.raises(SettingsError, match="JWT_SECRET must be at least 32"):
        load_settings(env)


def test_rate_limits_are_on_by_default_and_each_can_be_tuned():
    settings = load_settings({**LOCAL, "RATE_LIMIT_AUTH_IP": "5/10"})

    assert settings.rate_limits_on
    assert settings.rate_limits["auth_ip"] == (5, 10)
    assert settings.rate_limits["recipient"] == (10, 3600)
    assert not load_settings({**LOCAL, "RATE_LIMITS": "off"}).rate_limits_on


@pytest.mark.parametrize("bad", ["5", "5/", "/10", "0/10", "5/0", "²/10", "five/10"])
def test_a_malformed_limit_is_refused_naming_it(bad):
    with pytest.raises(SettingsError, match="RATE_LIMIT_LOGIN_EMAIL"):
        load_settings({**LOCAL, "RATE_LIMIT_LOGIN_EMAIL": bad})


def test_rate_limits_switch_takes_only_on_or_off():
    with pytest.raises(SettingsError, match="RATE_LIMITS"):
        load_settings({**LOCAL, "RATE_LIMITS": "no"})


def test_prod_with_everything_set_loads_and_is_not_local():
    settings = load_settings(PROD)

    assert settings.stage == "prod"
    assert not settings.is_local
    assert settings.app_url == "https://tickets.example.com"
    assert settings.table_name("events") == "events-api-prod-events"
    # No local admin fallback outside dev.
    assert settings.admin_email is None
    assert settings.admin_password is None


@pytest.mark.parametrize("missing", ["APP_URL", "JWT_SECRET", "SES_SENDER"])
def test_prod_fails_naming_the_missing_variable(missing):
    env = {**PROD, missing: "  "}

    with pytest.raises(SettingsError, match=missing):
        load_settings(env)


def test_unknown_stage_is_refused():
    with pytest.raises(SettingsError, match="STAGE"):
        load_settings({"STAGE": "staging"})


def test_environment_overrides_defaults():
    settings = load_settings(
        {
            "TABLE_PREFIX": "x-",
            **LOCAL,
            "AWS_DEFAULT_REGION": "eu-west-1",
            "GOOGLE_ISSUER": "https://a.example, https://b.example ,",
        }
    )

    assert settings.table_name("users") == "x-users"
    assert settings.aws_endpoint_url == "http://127.0.0.1:4566"
    assert settings.aws_region == "eu-west-1"
    assert settings.google_issuer == ("https://a.example", "https://b.example")


def test_prod_refuses_a_short_jwt_secret():
    with pytest.raises(SettingsError, match="JWT_SECRET must be at least 32"):
        load_settings({**PROD, "JWT_SECRET": "short"})


def test_chalice_packaging_imports_the_app_without_runtime_secrets():
    settings = load_settings({"STAGE": "prod", "AWS_CHALICE_CLI_MODE": "true"})

    assert settings.stage == "prod"
    assert not settings.is_local


def test_secrets_are_read_once_from_ssm_parameters_named_in_the_environment():
    import boto3
    from moto import mock_aws

    with mock_aws():
        ssm = boto3.client("ssm", region_name="eu-west-1")
        ssm.put_parameter(Name="/events-api/prod/jwt-secret", Value="j" * 40, Type="SecureString")
        ssm.put_parameter(Name="/events-api/prod/github", Value="gh-secret", Type="SecureString")
        env = {
            "STAGE": "prod",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_LAMBDA_FUNCTION_NAME": "events-api-prod-api",
            "APP_URL": "https://tickets.example.com",
            "SES_SENDER": "tickets@example.com",
            "JWT_SECRET_PARAMETER": "/events-api/prod/jwt-secret",
            "GITHUB_CLIENT_SECRET_PARAMETER": "/events-api/prod/github",
            "GOOGLE_CLIENT_SECRET_PARAMETER": "",
        }

        settings = load_settings(env)

        assert settings.jwt_secret == "j" * 40
        assert settings.github_client_secret == "gh-secret"
        assert settings.google_client_secret is None
        with pytest.raises(SettingsError, match="/events-api/prod/missing"):
            load_settings({**env, "JWT_SECRET_PARAMETER": "/events-api/prod/missing"})


def test_packaging_never_reads_ssm():
    settings = load_settings(
        {"STAGE": "prod", "AWS_CHALICE_CLI_MODE": "1", "JWT_SECRET_PARAMETER": "/nowhere"}
    )

    assert not settings.is_local


def _jwk(kid="k1", private=True):
    key = {"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": "eA"}
    return {**key, "d": "ZA"} if private else key


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        '{"keys": []}',
        json.dumps({"keys": [_jwk(private=False)]}),  # the signing key without its private part
        json.dumps({"keys": [{**_jwk(), "crv": "P-256"}]}),
        json.dumps({"keys": [{**_jwk(), "kid": ""}]}),
        json.dumps({"keys": [_jwk("a"), _jwk("a", private=False)]}),  # one kid twice
        json.dumps({"keys": ["k1"]}),
    ],
)
def test_malformed_ticket_keys_are_refused_naming_the_setting(raw):
    with pytest.raises(SettingsError, match="TICKET_KEYS"):
        load_settings({**PROD, "TICKET_KEYS": raw})


def test_ticket_keys_may_list_retired_public_keys_after_the_signing_one():
    raw = json.dumps({"keys": [_jwk("new"), _jwk("old", private=False)]})

    assert load_settings({**PROD, "TICKET_KEYS": raw}).ticket_keys == raw
