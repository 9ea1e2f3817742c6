"""DynamoDB's data-plane calls served straight to moto's handler, past its web stack.

Per request, moto's server routes through Flask and werkzeug, re-parses headers and query
string, parses the JSON body again through botocore's model (`parse_parameters`) and lists
its handler's methods with `inspect` to find the action: about 3 ms of profiled time per call,
measured here, before any DynamoDB work. For the JSON operations an order makes, this module
reads the body itself and calls the same handler method moto would, with the same parameters
(binary values decoded from base64, as botocore's parser does), and answers the same JSON or
the same error. Anything else (control plane, other services, odd requests) goes the usual way.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.responses import DynamoHandler

from devstack import partitions, responses

TARGET_PREFIX = "DynamoDB_20120810."
OPERATIONS = {
    "GetItem": "get_item",
    "BatchGetItem": "batch_get_item",
    "Query": "query",
    "PutItem": "put_item",
    "UpdateItem": "update_item",
    "DeleteItem": "delete_item",
    "TransactWriteItems": "transact_write_items",
    "TransactGetItems": "transact_get_items",
}
_REGION = re.compile(r"Credential=[^/]+/\d+/([a-z0-9-]+)/dynamodb/")
JSON_TYPE = "application/x-amz-json-1.0"

StartResponse = Callable[..., Any]


def _decoded(value: Any) -> Any:
    """Binary attribute values as bytes, the way botocore's parser hands them to moto."""
    if isinstance(value, dict):
        if len(value) == 1:
            [(kind, inner)] = value.items()
            if kind == "B" and isinstance(inner, str):
                return {"B": base64.b64decode(inner)}
            if kind == "BS" and isinstance(inner, list) and all(isinstance(v, str) for v in inner):
                return {"BS": [base64.b64decode(v) for v in inner]}
        return {key: _decoded(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_decoded(inner) for inner in value]
    return value


def operation_of(environ: dict) -> str | None:
    """The fast path's operation for this request, or None for the usual way."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if environ.get("REQUEST_METHOD") != "POST" or not target.startswith(TARGET_PREFIX):
        return None
    operation = target[len(TARGET_PREFIX) :]
    if operation not in OPERATIONS or environ.get("HTTP_CONTENT_ENCODING"):
        return None
    if "HTTP_X_MOTO_ACCOUNT_ID" in environ:
        return None
    return operation


def serve(
    environ: dict, start_response: StartResponse, operation: str, default_region: str
) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        params = _decoded(json.loads(raw or b"{}"))
    except ValueError:
        return _answer(start_response, 400, _error("SerializationException", "Malformed JSON"))
    if not isinstance(params, dict):
        return _answer(start_response, 400, _error("SerializationException", "Not an object"))
    match = _REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
    handler = DynamoHandler()
    handler.region = match.group(1) if match else default_region
    handler.current_account = DEFAULT_ACCOUNT_ID
    handler.params = params
    handler.body = params
    handler.uri_match = {}
    handler.querystring = {}
    handler.headers = {"X-Amz-Target": TARGET_PREFIX + operation}
    model = partitions.current()
    outcome = partitions.Outcome()
    if model is not None:
        outcome = model.before(operation, params, partitions.MotoStore(handler.dynamodb_backend))
        if outcome.refusal is not None:
            return _answer(start_response, outcome.refusal.status, outcome.refusal.body)
    try:
        result = getattr(handler, OPERATIONS[operation])()
    except JsonRESTError as exc:
        return _answer(start_response, exc.code, exc.description, raw_body=True)
    answer = result.result if hasattr(result, "result") else result
    if model is not None and (outcome.read_partition or outcome.unprocessed):
        answer = json.loads(json.dumps(answer, default=responses.wire))
        model.after(outcome, params, answer)
    return _answer(start_response, 200, answer)


def _error(name: str, message: str) -> dict[str, str]:
    return {"__type": f"com.amazonaws.dynamodb.v20120810#{name}", "message": message}


def _answer(
    start_response: StartResponse, status: int, body: Any, *, raw_body: bool = False
) -> Iterable[bytes]:
    data = (body if raw_body else json.dumps(body, default=responses.wire)).encode()
    reason = "OK" if status == 200 else "Bad Request"
    start_response(f"{status} {reason}", [("Content-Type", JSON_TYPE),
                                          ("Content-Length", str(len(data)))])  # fmt: skip
    return [data]
