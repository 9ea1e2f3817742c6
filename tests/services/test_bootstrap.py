import dataclasses

import boto3
import pytest

from chalicelib.auth.passwords import verify_password
from chalicelib.bootstrap import bootstrap
from chalicelib.db.tables import create_tables
from chalicelib.db.uniques import UniqueClaim
from chalicelib.db.users import User
from chalicelib.services.accounts.users import ensure_admin
from chalicelib.settings import SettingsError, get_settings, load_settings


def test_bootstrap_seeds_one_verified_admin_from_settings(aws_mock):
    report = bootstrap(get_settings(), create_missing_tables=True)

    assert report.admin_created
    [admin] = list(User.scan())
    assert admin.email == "admin@example.com"
    assert admin.role == "admin"
    assert admin.verified and not admin.blocked
    assert verify_password("Admin-Passw0rd-Test!", admin.password_hash)[0]
    assert "Admin-Passw0rd-Test!" not in admin.password_hash
    assert UniqueClaim.get("user-email:admin@example.com").owner_id == admin.id


def test_bootstrap_is_idempotent(aws_mock):
    bootstrap(get_settings(), create_missing_tables=True)

    again = bootstrap(get_settings(), create_missing_tables=True)

    assert again.tables_created == []
    assert not again.admin_created
    assert User.count() == 1


def test_bootstrap_verifies_the_sender_identity_locally(aws_mock):
    bootstrap(dataclasses.replace(get_settings(), is_local=True))

    identities = boto3.client("ses").list_identities()["Identities"]

    assert "tickets@example.com" in identities


def test_bootstrap_needs_admin_credentials(aws_mock):
    settings = load_settings(
        {
            "STAGE": "prod",
            "APP_URL": "https://x",
            "JWT_SECRET": "s" * 32,
            "SES_SENDER": "a@b.c",
        }
    )

    with pytest.raises(SettingsError, match="ADMIN_EMAIL"):
        bootstrap(settings, create_missing_tables=True)


def test_admin_email_is_stored_normalised(tables):
    assert not ensure_admin(email="  ADMIN@Example.COM ", password="another-password")

    assert User.count() == 1


def test_a_second_admin_seed_for_a_new_email_is_refused_by_the_claim_only_for_that_email(tables):
    assert ensure_admin(email="root@example.com", password="Passw0rd-1234")
    assert not ensure_admin(email="root@example.com", password="Passw0rd-1234")

    assert User.count() == 2


def test_operators_unblock_any_account_with_the_setup_step(tables, capsys):
    from chalicelib.bootstrap import main
    from chalicelib.services.accounts import lockout
    from tests.conftest import admin_user

    admin = admin_user()
    lockout.block(admin, reason="failed_logins")
    admin.update(actions=[User.failed_logins.set(3)])

    code = main(["unblock", "ADMIN@example.com"])

    assert code == 0
    assert "unblocked" in capsys.readouterr().out
    stored = User.get(admin.id)
    assert not stored.blocked and stored.failed_logins == 0


def test_unblocking_an_unknown_email_fails_naming_it(tables, capsys):
    from chalicelib.bootstrap import main

    assert main(["unblock", "nobody@example.com"]) == 1
    assert "nobody@example.com" in capsys.readouterr().err


def test_against_a_deployment_the_setup_step_creates_no_table_and_names_the_missing(aws_mock):
    with pytest.raises(SettingsError, match=r"test-users.*Deploy the stack first"):
        bootstrap(get_settings())

    assert boto3.client("dynamodb").list_tables()["TableNames"] == []


def test_the_first_admins_password_can_come_from_an_ssm_parameter(aws_mock):
    boto3.client("ssm").put_parameter(
        Name="/events-api/prod/admin-password", Value="from-ssm-Passw0rd", Type="SecureString"
    )
    env = {
        "STAGE": "prod", "TABLE_PREFIX": "test-", "APP_URL": "https://x.example",
        "JWT_SECRET": "s" * 32, "SES_SENDER": "a@example.com", "ADMIN_EMAIL": "root@example.com",
        "ADMIN_PASSWORD_PARAMETER": "/events-api/prod/admin-password",
    }  # fmt: skip
    create_tables()

    report = bootstrap(load_settings(env))

    assert report.admin_created
    [admin] = [u for u in User.scan() if u.email == "root@example.com"]
    assert verify_password("from-ssm-Passw0rd", admin.password_hash)[0]


@pytest.mark.parametrize("command", [[], ["unblock", "admin@example.com"]])
def test_an_unreachable_stack_is_named_not_a_traceback(command):
    """The setup step and the unblock command pointed at no emulator (a stack on other ports):
    one line saying where they looked, exit status 3."""
    import os
    import subprocess
    import sys

    from devstack.harness import PROJECT_DIR, free_port

    env = {**os.environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
           "AWS_MAX_ATTEMPTS": "1"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "chalicelib.bootstrap", *command],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert f"cannot reach the tables at {env['AWS_ENDPOINT_URL']}" in done.stderr
