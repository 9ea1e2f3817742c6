"""Cold start: how long a fresh Lambda process spends importing the handler's module.

Each figure is the median of fresh interpreters (never one process importing twice), measured
in-process around the import so interpreter start-up noise stays out. The floor is what any
Chalice app talking to DynamoDB must import anyway; the ratios are what the targets are about.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from chalicelib.auth.ticket_keys import local_key_set

# A deployed stage's settings (no local endpoint): what the Lambda process sees at import.
LAMBDA_ENV = {
    "STAGE": "prod",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_LAMBDA_FUNCTION_NAME": "events-api-prod-api",
    "TABLE_PREFIX": "events-api-prod-",
    "APP_URL": "https://tickets.example.com",
    "JWT_SECRET": "cold-start-secret-cold-start-secret-0123",
    "SES_SENDER": "tickets@example.com",
    "TICKET_KEYS": local_key_set(),
}

# What a cold booking request does before its first DynamoDB call: import, then route,
# validate (pydantic and the booking's schemas load here) and answer. An empty body is a 400
# that reaches no storage, so the figure is the code's own, free of network time.
FIRST_REQUEST = """
import app
event = {
    "resource": "/sold-tickets", "path": "/sold-tickets", "httpMethod": "POST",
    "headers": {"content-type": "application/json"}, "multiValueHeaders": {},
    "queryStringParameters": None, "multiValueQueryStringParameters": None,
    "pathParameters": None, "stageVariables": None, "body": "{}", "isBase64Encoded": False,
    "requestContext": {"resourcePath": "/sold-tickets", "httpMethod": "POST",
                       "identity": {"sourceIp": "192.0.2.1"}},
}
assert app.app(event, None)["statusCode"] == 400
"""

TARGETS = {
    "floor": "import chalice.app, botocore.session",
    "app": "import app",
    "authorizer": "import chalicelib.auth.authorizer",
    "first_request": FIRST_REQUEST,
}

_PROBE = """
import time
start = time.perf_counter()
{statement}
print(time.perf_counter() - start)
"""


def import_seconds(statement: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
    env.update(LAMBDA_ENV, PYTHONDONTWRITEBYTECODE="0")
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(statement=statement)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure(runs: int = 15) -> dict[str, float]:
    """Medians in seconds; the three targets interleaved so drift on a shared machine hits all."""
    for statement in TARGETS.values():  # warm the bytecode cache, as a deployed zip would be
        import_seconds(statement)
    samples: dict[str, list[float]] = {name: [] for name in TARGETS}
    for _ in range(runs):
        for name, statement in TARGETS.items():
            samples[name].append(import_seconds(statement))
    return {name: statistics.median(values) for name, values in samples.items()}


if __name__ == "__main__":
    medians = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
    for name, seconds in medians.items():
        print(f"{name:<12}{seconds * 1000:8.0f} ms  {seconds / medians['floor']:5.2f}x floor")
