"""The authorizer is its own Lambda function: its cold start pays for every module its module
imports, so it must not pull in what only the API needs."""

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
NOT_FOR_THE_AUTHORIZER = (
    "pydantic",
    "passlib",
    "argon2",
    "email_validator",
    "phonenumbers",
    "requests",
    "boto3",
    "chalicelib.oauth",
    "chalicelib.api",
    "chalicelib.services",
)


def test_the_authorizers_module_imports_nothing_only_the_api_needs():
    script = (
        "import json, sys; import chalicelib.auth.authorizer; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    env = {**os.environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}  # local: no secrets
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, env=env, capture_output=True,
        text=True, timeout=60, check=True,
    )  # fmt: skip
    loaded = json.loads(done.stdout)

    pulled = sorted(
        {name for name in NOT_FOR_THE_AUTHORIZER for m in loaded if m == name or
         m.startswith(f"{name}.")}
    )  # fmt: skip
    assert pulled == []
