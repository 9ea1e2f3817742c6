"""Reading DynamoDB's answers without botocore's walk of every attribute value.

botocore parses a JSON answer by walking the service model shape by shape: for DynamoDB that
is a dozen Python calls per attribute of every item (6.5 ms for a Query of 100 events, against
0.4 ms to read the JSON itself). An attribute value needs only one change from its JSON
form: binary values arrive base64-encoded. This parser reads attribute values directly and
leaves everything else, errors included, to botocore; anything it does not recognise goes
back to botocore's own code, so the result is always what botocore would have returned
(tests/unit/test_wire.py compares the two on generated items).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.parsers import PROTOCOL_PARSERS, JSONParser, ResponseParserFactory

ATTRIBUTE_VALUE = "AttributeValue"
# Read exactly as they arrive: botocore's handlers return these members' JSON values unchanged.
_AS_IS = frozenset({"S", "N", "BOOL", "NULL"})
_AS_IS_SETS = frozenset({"SS", "NS"})


class _Unusual(Exception):
    """A value this fast path does not handle the way botocore would: let botocore read it."""


def attribute_value(value: Any, blob: Callable[[str], bytes]) -> Any:
    """One attribute value as botocore returns it: its JSON, with B and BS decoded."""
    if value is None:  # botocore keeps a null as None (lists are read as sparse)
        return None
    if type(value) is not dict or len(value) != 1:
        raise _Unusual
    for tag, raw in value.items():
        if raw is None:
            break
        if tag in _AS_IS or (tag in _AS_IS_SETS and type(raw) is list):
            return value
        if tag == "M" and type(raw) is dict:
            return {"M": {key: attribute_value(item, blob) for key, item in raw.items()}}
        if tag == "L" and type(raw) is list:
            return {"L": [attribute_value(item, blob) for item in raw]}
        if tag == "B":
            return {"B": blob(raw)}
        if tag == "BS" and type(raw) is list:
            return {"BS": [None if item is None else blob(item) for item in raw]}
    raise _Unusual


class DynamoDBParser(JSONParser):
    """botocore's JSON parser with a fast path for attribute values and maps of them."""

    def _handle_map(self, shape: Any, value: Any) -> Any:
        if shape.value.name == ATTRIBUTE_VALUE and type(value) is dict:
            try:
                return {
                    key: attribute_value(item, self._blob_parser) for key, item in value.items()
                }
            except _Unusual:
                pass
        return super()._handle_map(shape, value)

    def _handle_structure(self, shape: Any, value: Any) -> Any:
        if shape.name == ATTRIBUTE_VALUE:
            try:
                return attribute_value(value, self._blob_parser)
            except _Unusual:
                pass
        return super()._handle_structure(shape, value)


class ParserFactory(ResponseParserFactory):
    """Gives the DynamoDB client (JSON protocol) the fast parser; other protocols as usual."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return DynamoDBParser(**self._defaults)
        return PROTOCOL_PARSERS[protocol_name](**self._defaults)
