"""Importing app.py the way Lambda and `chalice package` do."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def import_app(**env):
    return import_module("app", **env)


def test_a_prod_function_without_its_secrets_fails_at_start_naming_them():
    result = import_app(STAGE="prod")

    assert result.returncode != 0
    assert "APP_URL, JWT_SECRET, SES_SENDER" in result.stderr


def test_the_api_without_ticket_keys_fails_at_start_and_the_authorizer_does_not_need_them():
    deployed = {"STAGE": "prod", "APP_URL": "https://t.example.com", "SES_SENDER": "a@example.com",
                "JWT_SECRET": "s" * 32, "TICKET_KEYS": ""}  # fmt: skip

    api = import_app(**deployed)
    authorizer = import_module("chalicelib.auth.authorizer", **deployed)

    assert api.returncode != 0
    assert "TICKET_KEYS" in api.stderr
    assert authorizer.returncode == 0, authorizer.stderr


def test_chalice_packaging_can_import_the_prod_app_without_secrets():
    result = import_app(STAGE="prod", AWS_CHALICE_CLI_MODE="true")

    assert result.returncode == 0, result.stderr


def test_a_lambda_function_never_takes_local_defaults_whatever_its_stage():
    # Even pointed at a loopback endpoint, a function inside Lambda is no local stack.
    lambda_env = {
        "STAGE": "dev",
        "AWS_LAMBDA_FUNCTION_NAME": "events-api-dev",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
    }

    api = import_app(**lambda_env)
    authorizer = import_module("chalicelib.auth.authorizer", **lambda_env)

    for result in (api, authorizer):
        assert result.returncode != 0
        assert "APP_URL, JWT_SECRET, SES_SENDER" in result.stderr


def import_module(name, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("JWT_SECRET", "APP_URL", "SES_SENDER", "TICKET_KEYS")
    }
    return subprocess.run(
        [sys.executable, "-c", f"import {name}"],
        cwd=PROJECT_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
