"""Importing app.py the way Lambda and `chalice package` do."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def import_app(**env):
    clean = {
        k: v for k, v in os.environ.items() if k not in ("JWT_SECRET", "APP_URL", "SES_SENDER")
    }
    return subprocess.run(
        [sys.executable, "-c", "import app"],
        cwd=PROJECT_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_prod_function_without_its_secrets_fails_at_start_naming_them():
    result = import_app(STAGE="prod")

    assert result.returncode != 0
    assert "APP_URL, JWT_SECRET, SES_SENDER" in result.stderr


def test_chalice_packaging_can_import_the_prod_app_without_secrets():
    result = import_app(STAGE="prod", AWS_CHALICE_CLI_MODE="true")

    assert result.returncode == 0, result.stderr
