"""What a cold start imports. Each Lambda function pays at start for every module its handler's
module imports, so heavy libraries load only in the requests that use them: the authorizer
never, the API function on the first request that needs them, and then only its route's part."""

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
ONLY_ON_USE = (
    "pydantic",
    "pydantic_core",
    "passlib",
    "argon2",
    "email_validator",
    "phonenumbers",
    "segno",
    "iso4217",
    "jwt",
    "requests",
    "boto3",
    "chalicelib.api.schemas.",  # the package itself is the lazy index: its modules load on use
    "chalicelib.api.openapi",
)
NOT_FOR_THE_AUTHORIZER = (*ONLY_ON_USE, "chalicelib.api", "chalicelib.services", "chalicelib.oauth")


def modules_loaded(code: str) -> list[str]:
    """Every module loaded in a fresh interpreter after `code` runs."""
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}  # local: no secrets
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, env=env, capture_output=True,
        text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def pulled(loaded: list[str], names: tuple[str, ...]) -> list[str]:
    """The modules of `names` among `loaded` (a name ending in "." means its submodules)."""
    return sorted(
        {m for m in loaded for name in names
         if m.startswith(name) if name.endswith(".") or m == name or m.startswith(f"{name}.")}
    )  # fmt: skip


def test_the_authorizers_module_imports_nothing_only_the_api_needs():
    loaded = modules_loaded("import chalicelib.auth.authorizer")

    assert pulled(loaded, NOT_FOR_THE_AUTHORIZER) == []


def test_importing_the_app_loads_no_library_a_request_may_not_need():
    loaded = modules_loaded("import app")

    assert "chalicelib.api.tickets" in loaded  # the routes are all there
    assert pulled(loaded, ONLY_ON_USE) == []


def test_a_first_request_loads_its_own_routes_schemas_only():
    loaded = modules_loaded(
        "import app\n"
        "from chalice.test import Client\n"
        "with Client(app.app) as client:\n"
        "    answer = client.http.post('/sold-tickets', body=b'{}',\n"
        "                              headers={'content-type': 'application/json'})\n"
        "assert answer.status_code == 400, answer.body\n"
    )

    assert pulled(loaded, ("chalicelib.api.schemas.",)) == [
        "chalicelib.api.schemas.bookings",
        "chalicelib.api.schemas.common",
    ]
    assert "pydantic" in loaded
