"""Exports over real HTTP: the API answers 303 to a presigned link, and the link, followed as
`curl -L` would, downloads the file from the emulator's S3."""

from __future__ import annotations

import csv
import io

import pytest

from tests.integration.test_order_races import online_event
from tests.integration.test_ticket_races import Caller, buyer, seller

pytestmark = pytest.mark.integration


def test_an_export_link_followed_downloads_the_orders(local_stack):
    _, organizer = seller(local_stack, "organizer")
    event_id = online_event(organizer, 20)
    anonymous = Caller(local_stack)
    for name in ("Ann", "=cmd|' /C calc'!A0"):
        body = {"event_id": event_id, "items": [{"quantity": 2}], "buyer": buyer() | {"name": name}}
        assert anonymous("POST", "/orders", body).status_code == 201

    answer = organizer("GET", f"/events/{event_id}/orders.csv")

    assert answer.status_code == 200, answer.text  # requests followed the 303
    assert [r.status_code for r in answer.history] == [303]
    assert "attachment" in answer.headers.get("Content-Disposition", "")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert len(rows) == 3
    assert sorted(row[4] for row in rows[1:]) == ["'=cmd|' /C calc'!A0", "Ann"]
