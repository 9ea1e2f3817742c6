"""Exports of an event's orders: CSV and XLSX with the same rows, no cell a formula."""

import csv
import io
from urllib.parse import unquote, urlsplit

import boto3
import pytest
from openpyxl import load_workbook

from chalicelib.services.sales.exports import COLUMNS
from chalicelib.settings import get_settings
from tests.api.test_orders import add_vip, new_event, place
from tests.conftest import admin_user, buyer_body, make_user


@pytest.fixture
def organizer(tables):
    return make_user("organizer", name="Venue")


def download(url: str) -> bytes:
    """The file a presigned link points at (read from the emulated S3 by its key)."""
    parts = urlsplit(url)
    bucket, _, key = parts.path.lstrip("/").partition("/")
    if bucket != get_settings().exports_bucket_name:  # virtual-hosted style
        bucket, key = parts.hostname.split(".")[0], parts.path.lstrip("/")
    return boto3.client("s3").get_object(Bucket=bucket, Key=unquote(key))["Body"].read()


def export(api, event_id, fmt, caller):
    response = api.get(f"/events/{event_id}/orders.{fmt}", as_=caller)
    assert response.status_code == 303, response.json_body
    body = response.json_body["export"]
    assert response.headers["Location"] == body["url"]
    return body, download(body["url"])


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte order mark
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_rows(data: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(data), read_only=True)["orders"]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def test_csv_and_xlsx_hold_the_same_rows_one_per_order_line(api, organizer):
    event_id = new_event(api, organizer, price="50")
    vip = add_vip(api, event_id, organizer)
    code = {"code": "TENOFF", "discount": {"type": "amount", "value": "10"}}
    api.post(f"/events/{event_id}/vouchers", code, as_=organizer)
    both = [{"ticket_type_id": event_id, "quantity": 2}, {"ticket_type_id": vip, "quantity": 1}]
    buyer = buyer_body(name="Zoë Ünal")
    first = place(api, event_id, both, buyer=buyer).json_body["order"]
    body = {"event_id": event_id, "items": [{"ticket_type_id": vip, "quantity": 1}],
            "buyer": buyer_body(), "voucher": "tenoff"}  # fmt: skip
    second = api.post("/orders", body).json_body["order"]
    api.post(f"/orders/{first['id']}/refunds", {"ticket_ids": [first["tickets"][0]["id"]]},
             as_=organizer)  # fmt: skip

    csv_export, csv_data = export(api, event_id, "csv", organizer)
    xlsx_export, xlsx_data = export(api, event_id, "xlsx", admin_user())

    from_csv, from_xlsx = csv_rows(csv_data), xlsx_rows(xlsx_data)
    assert from_csv == from_xlsx
    assert from_csv[0] == list(COLUMNS)
    assert csv_export["rows"] == xlsx_export["rows"] == 3
    assert csv_export["filename"] == f"orders-{event_id}.csv"
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in from_csv[1:]]
    by_line = {(r["order_id"], r["ticket_type"]): r for r in rows}
    general = by_line[(first["id"], "General admission")]
    assert (general["buyer_name"], general["buyer_email"]) == ("Zoë Ünal", buyer["email"])
    assert (general["quantity"], general["unit_price"]) == ("2", "50.00")
    assert general["refunded"] == "50.00"
    assert len(general["ticket_codes"].split()) == 1  # the refunded ticket is cancelled
    discounted = by_line[(second["id"], "VIP")]
    assert (discounted["discount"], discounted["voucher"]) == ("10.00", "TENOFF")
    assert discounted["buyer_phone"] == "'+442079460958"  # neutralised like any "+..." text


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)"]
)
def test_a_name_that_looks_like_a_formula_stays_text(api, organizer, name):
    event_id = new_event(api, organizer)
    place(api, event_id, [{"quantity": 1}], buyer=buyer_body(name=name))

    _, csv_data = export(api, event_id, "csv", organizer)
    _, xlsx_data = export(api, event_id, "xlsx", organizer)

    column = COLUMNS.index("buyer_name")
    assert csv_rows(csv_data)[1][column] == "'" + name
    sheet = load_workbook(io.BytesIO(xlsx_data))["orders"]
    cell = sheet.cell(row=2, column=column + 1)
    assert (cell.value, cell.data_type) == ("'" + name, "s")


def test_control_characters_that_start_a_formula_are_neutralised_too():
    from chalicelib.services.sales.exports import neutralise

    assert [neutralise(v) for v in ("\tx", "\rx", "x=1", "", "Bea")] == ["'\tx", "'\rx", "x=1",
                                                                        "", "Bea"]  # fmt: skip


def test_an_event_without_orders_exports_its_header_only(api, organizer):
    event_id = new_event(api, organizer)

    body, data = export(api, event_id, "csv", organizer)

    assert body["rows"] == 0
    assert csv_rows(data) == [list(COLUMNS)]


def test_only_the_organizer_and_admins_export(api, organizer):
    event_id = new_event(api, organizer)

    for fmt in ("csv", "xlsx"):
        assert api.get(f"/events/{event_id}/orders.{fmt}").status_code == 401
        for stranger in (make_user("organizer"), make_user("reseller")):
            assert api.get(f"/events/{event_id}/orders.{fmt}", as_=stranger).status_code == 403
        assert api.get(f"/events/nope/orders.{fmt}", as_=organizer).status_code == 404
