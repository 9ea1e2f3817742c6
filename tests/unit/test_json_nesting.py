"""The nesting check that runs before any JSON body is parsed."""

import pytest

from chalicelib.api.requests import json_nests_deeper_than


@pytest.mark.parametrize(
    ("text", "deeper_than_3"),
    [
        ("[[[]]]", False),
        ("[[[[]]]]", True),
        ('{"a": {"b": {"c": {"d": 1}}}}', True),
        ('{"a": "[[[[[[[["}', False),  # brackets inside a string do not nest
        ('{"a": "\\\\", "b": [[[[1]]]]}', True),  # an escaped backslash closes nothing
        ('{"a": "\\"[[[[\\""}', False),  # escaped quotes keep the string open
        ("[" * 2048 + "]" * 2048, True),
        ('"' + '\\"' * 20000, False),  # an unterminated string of escaped quotes
        ("", False),
    ],
)
def test_nesting_is_measured_outside_strings(text, deeper_than_3):
    assert json_nests_deeper_than(text, 3) is deeper_than_3
