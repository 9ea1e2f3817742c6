import pytest

from chalicelib.settings import LOCAL_ADMIN_EMAIL, SettingsError, load_settings

PROD = {
    "STAGE": "prod",
    "APP_URL": "https://tickets.example.com/",
    "JWT_SECRET": "s" * 40,
    "SES_SENDER": "tickets@example.com",
}


def test_dev_has_safe_local_defaults():
    settings = load_settings({})

    assert settings.stage == "dev"
    assert settings.is_local
    assert settings.table_name("users") == "events-api-dev-users"
    assert settings.app_url == "http://127.0.0.1:8000"
    assert settings.admin_email == LOCAL_ADMIN_EMAIL
    assert settings.aws_endpoint_url is None
    assert len(settings.jwt_secret) >= 32


def test_dev_jwt_secret_is_random_per_process_when_unset():
    assert load_settings({}).jwt_secret != load_settings({}).jwt_secret


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
            "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
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
