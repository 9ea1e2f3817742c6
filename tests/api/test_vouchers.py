"""Vouchers: discounts per ticket under a stated rounding rule, uses counted with the stock."""

from datetime import timedelta

import pytest

from chalicelib.db.base import utcnow
from chalicelib.db.orders import Order
from chalicelib.db.tickets import Ticket
from chalicelib.db.vouchers import Voucher
from chalicelib.services.sales import orders
from tests.api.test_orders import add_vip, counts, new_event
from tests.conftest import admin_user, buyer_body, make_user

VOUCHER_KEYS = {"id", "code", "discount", "max_uses", "uses", "valid_until", "ticket_type_ids",
                "created_at", "updated_at"}  # fmt: skip


@pytest.fixture
def organizer(tables):
    return make_user("organizer", name="Venue")


def url(event_id, voucher_id=None):
    base = f"/events/{event_id}/vouchers"
    return f"{base}/{voucher_id}" if voucher_id else base


def add_voucher(api, event_id, organizer, code="SAVE", kind="percent", value="10", **extra):
    body = {"code": code, "discount": {"type": kind, "value": value}, **extra}
    response = api.post(url(event_id), body, as_=organizer)
    assert response.status_code == 201, response.json_body
    return response.json_body["voucher"]


def uses(event_id, voucher_id):
    return Voucher.get(event_id, voucher_id, consistent_read=True).uses


def with_voucher(api, event_id, items, code, **kw):
    body = {"event_id": event_id, "items": items, "buyer": kw.pop("buyer", None) or buyer_body(),
            "voucher": code}  # fmt: skip
    return api.post("/orders", body, **kw)


def test_a_voucher_is_created_listed_and_read_by_its_organizer(api, organizer):
    event_id = new_event(api, organizer)

    voucher = add_voucher(api, event_id, organizer, code="EarlyBird", value="12.5", max_uses=3)

    assert set(voucher) == VOUCHER_KEYS
    assert voucher["discount"] == {"type": "percent", "value": "12.5"}
    assert (voucher["code"], voucher["max_uses"], voucher["uses"]) == ("EarlyBird", 3, 0)
    listed = api.get(url(event_id), as_=organizer).json_body
    assert [v["id"] for v in listed["vouchers"]] == [voucher["id"]]
    assert listed["next_token"] is None
    assert api.get(url(event_id, voucher["id"]), as_=admin_user()).json_body["voucher"] == voucher


def test_codes_are_unique_per_event_whatever_the_case(api, organizer):
    event_id = new_event(api, organizer)
    other_event = new_event(api, organizer)
    add_voucher(api, event_id, organizer, code="SPRING")

    body = {"code": "spring", "discount": {"type": "amount", "value": "1"}}
    again = api.post(url(event_id), body, as_=organizer)

    assert again.status_code == 409
    assert again.json_body["code"] == "duplicate_voucher"
    add_voucher(api, other_event, organizer, code="spring")  # another event: fine


@pytest.mark.parametrize(
    ("discount", "problem"),
    [
        ({"type": "percent", "value": "0"}, "discount.value"),
        ({"type": "percent", "value": "100.5"}, "discount.value"),
        ({"type": "percent", "value": "10.001"}, "discount.value"),
        ({"type": "percent", "value": "1e1"}, "discount.value"),
        ({"type": "percent", "value": "NaN"}, "discount.value"),
        ({"type": "amount", "value": "0"}, "discount.value"),
        ({"type": "amount", "value": "-1"}, "discount.value"),
        ({"type": "amount", "value": "1.234"}, "discount.value"),
        ({"type": "price", "value": "abc"}, "discount.value"),
    ],
)
def test_a_bad_discount_is_a_400_and_creates_nothing(api, organizer, discount, problem):
    event_id = new_event(api, organizer)

    refused = api.post(url(event_id), {"code": "BAD1", "discount": discount}, as_=organizer)

    assert refused.status_code == 400, refused.json_body
    assert problem in refused.json_body["details"]
    assert api.get(url(event_id), as_=organizer).json_body["vouchers"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"code": "ab", "discount": {"type": "percent", "value": "5"}},  # too short
        {"code": "has space", "discount": {"type": "percent", "value": "5"}},
        {"code": "=HYPERLINK", "discount": {"type": "percent", "value": "5"}},
        {"code": "OK12", "discount": {"type": "gift", "value": "5"}},
        {"code": "OK12", "discount": {"type": "percent", "value": 5}},  # a number, not a string
        {"code": "OK12", "discount": {"type": "percent", "value": "5"}, "max_uses": 0},
        {"code": "OK12", "discount": {"type": "percent", "value": "5"},
         "valid_until": "2001-01-01T00:00:00Z"},
        {"code": "OK12", "discount": {"type": "percent", "value": "5"},
         "ticket_type_ids": ["not-a-type"]},
    ],
)  # fmt: skip
def test_hostile_voucher_bodies_are_400(api, organizer, body):
    event_id = new_event(api, organizer)

    refused = api.post(url(event_id), body, as_=organizer)

    assert refused.status_code == 400, refused.json_body


def test_only_the_events_organizer_and_admins_manage_its_vouchers(api, organizer):
    event_id = new_event(api, organizer)
    voucher = add_voucher(api, event_id, organizer)
    body = {"code": "MINE", "discount": {"type": "percent", "value": "5"}}

    for stranger in (make_user("organizer"), make_user("reseller")):
        assert api.post(url(event_id), body, as_=stranger).status_code == 403
        assert api.get(url(event_id), as_=stranger).status_code == 403
        assert api.get(url(event_id, voucher["id"]), as_=stranger).status_code == 403
        assert (
            api.put(url(event_id, voucher["id"]), {"max_uses": 1}, as_=stranger).status_code == 403
        )
        assert api.delete(url(event_id, voucher["id"]), as_=stranger).status_code == 403
    assert api.get(url(event_id)).status_code == 401
    assert api.get(url(event_id, "nope"), as_=organizer).status_code == 404


def test_percent_is_taken_off_each_ticket_rounded_half_up(api, organizer):
    # 5 % of 1.30 is 6.5 pence: half-up makes it 7 (half-even would make it 6).
    event_id = new_event(api, organizer, price="1.30")
    add_voucher(api, event_id, organizer, code="FIVE", value="5")

    placed = with_voucher(api, event_id, [{"quantity": 3}], "five")

    assert placed.status_code == 201, placed.json_body
    order = placed.json_body["order"]
    assert order["items"][0]["unit_price"] == "1.30"
    assert order["items"][0]["discount"] == "0.07"
    assert (order["total"], order["voucher"]) == ("3.69", "FIVE")
    assert {t["price"] for t in order["tickets"]} == {"1.23"}


def test_amount_and_price_apply_to_the_matching_types_only_and_never_below_zero(api, organizer):
    event_id = new_event(api, organizer, price="50")
    vip = add_vip(api, event_id, organizer)  # 120
    add_voucher(api, event_id, organizer, code="VIPDEAL", kind="price", value="80",
                ticket_type_ids=[vip])  # fmt: skip
    add_voucher(api, event_id, organizer, code="HUGE", kind="amount", value="500")

    lines = [{"ticket_type_id": event_id, "quantity": 1}, {"ticket_type_id": vip, "quantity": 2}]
    deal = with_voucher(api, event_id, lines, "VIPDEAL")
    huge = with_voucher(api, event_id, [{"ticket_type_id": vip, "quantity": 1}], "huge")

    lines = {line["name"]: line["discount"] for line in deal.json_body["order"]["items"]}
    assert lines == {"General admission": "0.00", "VIP": "40.00"}
    assert deal.json_body["order"]["total"] == "210.00"  # 50 + 2 x 80
    assert huge.json_body["order"]["total"] == "0.00"
    assert huge.json_body["order"]["status"] == "paid"


def test_a_fixed_price_above_the_tickets_own_price_does_not_raise_it(api, organizer):
    event_id = new_event(api, organizer, price="10")
    add_voucher(api, event_id, organizer, code="FLAT", kind="price", value="25")

    placed = with_voucher(api, event_id, [{"quantity": 1}], "FLAT")

    assert placed.json_body["order"]["total"] == "10.00"


def test_a_free_order_of_an_online_event_is_paid_at_once(api, organizer):
    event_id = new_event(api, organizer, payment="online", price="20")
    add_voucher(api, event_id, organizer, code="GUEST", value="100")

    placed = with_voucher(api, event_id, [{"quantity": 2}], "GUEST").json_body["order"]

    assert (placed["status"], placed["total"], len(placed["tickets"])) == ("paid", "0.00", 2)


@pytest.mark.parametrize("case", ["unknown", "expired", "used_up", "other_type", "other_event"])
def test_an_unusable_voucher_is_409_and_holds_nothing(api, organizer, case):
    event_id = new_event(api, organizer, payment="online")
    vip = add_vip(api, event_id, organizer)
    other_event = new_event(api, organizer)
    add_voucher(api, other_event, organizer, code="ELSEWHERE")
    voucher = add_voucher(api, event_id, organizer, code="ONCE", max_uses=1,
                          ticket_type_ids=[vip])  # fmt: skip
    code = {"unknown": "NOPE", "other_event": "ELSEWHERE"}.get(case, "ONCE")
    type_id = event_id if case == "other_type" else vip
    if case == "used_up":
        assert with_voucher(api, event_id, [{"ticket_type_id": vip, "quantity": 1}],
                            "ONCE").status_code == 201  # fmt: skip
    if case == "expired":
        stored = Voucher.get(event_id, voucher["id"])
        stored.update(actions=[Voucher.valid_until.set(utcnow() - timedelta(seconds=1))])
    before = counts(event_id, vip), counts(event_id, event_id)

    refused = with_voucher(api, event_id, [{"ticket_type_id": type_id, "quantity": 1}], code)

    assert refused.status_code == 409, refused.json_body
    assert refused.json_body["code"] == "voucher_not_valid"
    assert (counts(event_id, vip), counts(event_id, event_id)) == before
    assert uses(event_id, voucher["id"]) == (1 if case == "used_up" else 0)


def test_a_cancelled_or_expired_order_gives_its_use_back(api, organizer):
    event_id = new_event(api, organizer, payment="online", hold_minutes=1)
    voucher = add_voucher(api, event_id, organizer, code="TWO", max_uses=2)
    first = with_voucher(api, event_id, [{"quantity": 1}], "TWO").json_body
    with_voucher(api, event_id, [{"quantity": 1}], "TWO")
    assert uses(event_id, voucher["id"]) == 2
    assert with_voucher(api, event_id, [{"quantity": 1}], "TWO").status_code == 409

    cancelled = api.post(f"/orders/{first['order']['id']}/cancel", as_=first["order_token"])
    assert cancelled.status_code == 200
    assert uses(event_id, voucher["id"]) == 1
    assert orders.sweep(utcnow() + timedelta(minutes=5)) == 1
    assert uses(event_id, voucher["id"]) == 0
    listed = api.get(url(event_id), as_=organizer).json_body["vouchers"]
    assert listed[0]["uses"] == 0


def test_a_full_refund_gives_the_use_back_and_a_partial_one_does_not(api, organizer):
    event_id = new_event(api, organizer, price="40")
    voucher = add_voucher(api, event_id, organizer, code="HALF", value="50")
    placed = with_voucher(api, event_id, [{"quantity": 2}], "HALF").json_body["order"]
    ticket = placed["tickets"][0]

    partial = api.post(f"/orders/{placed['id']}/refunds", {"ticket_ids": [ticket["id"]]},
                       as_=organizer)  # fmt: skip
    assert partial.json_body["refund"]["amount"] == "20.00"  # what that ticket cost
    assert uses(event_id, voucher["id"]) == 1
    rest = api.post(f"/orders/{placed['id']}/refunds", {}, as_=organizer)
    assert rest.status_code == 201
    assert rest.json_body["refund"]["amount"] == "20.00"
    assert uses(event_id, voucher["id"]) == 0
    assert Order.get(placed["id"]).status == "refunded"


def test_max_uses_cannot_go_below_the_uses_and_a_used_voucher_cannot_be_deleted(api, organizer):
    event_id = new_event(api, organizer)
    voucher = add_voucher(api, event_id, organizer, code="BUSY", max_uses=5)
    with_voucher(api, event_id, [{"quantity": 1}], "BUSY")
    with_voucher(api, event_id, [{"quantity": 1}], "BUSY")

    below = api.put(url(event_id, voucher["id"]), {"max_uses": 1}, as_=organizer)
    in_use = api.delete(url(event_id, voucher["id"]), as_=organizer)

    assert below.status_code == 409
    assert below.json_body["code"] == "below_uses"
    assert in_use.status_code == 409
    assert in_use.json_body["code"] == "voucher_in_use"
    exact = api.put(url(event_id, voucher["id"]), {"max_uses": 2}, as_=organizer)
    assert exact.status_code == 200
    assert exact.json_body["voucher"]["max_uses"] == 2
    assert with_voucher(api, event_id, [{"quantity": 1}], "BUSY").status_code == 409


def test_a_voucher_changes_for_later_orders_and_an_unused_one_is_deleted(api, organizer):
    event_id = new_event(api, organizer, price="10")
    voucher = add_voucher(api, event_id, organizer, code="CHANGE", value="10")
    earlier = with_voucher(api, event_id, [{"quantity": 1}], "CHANGE").json_body["order"]

    changed = api.put(url(event_id, voucher["id"]),
                      {"discount": {"type": "amount", "value": "3"}, "max_uses": None,
                       "valid_until": (utcnow() + timedelta(days=1)).isoformat()},
                      as_=organizer)  # fmt: skip
    later = with_voucher(api, event_id, [{"quantity": 1}], "CHANGE").json_body["order"]

    assert changed.status_code == 200, changed.json_body
    assert changed.json_body["voucher"]["discount"] == {"type": "amount", "value": "3.00"}
    assert (earlier["total"], later["total"]) == ("9.00", "7.00")
    assert Order.get(earlier["id"]).total_minor == 900
    assert api.put(url(event_id, voucher["id"]), {"code": "NEW"}, as_=organizer).status_code == 400
    assert api.put(url(event_id, voucher["id"]), {}, as_=organizer).status_code == 400
    unused = add_voucher(api, event_id, organizer, code="UNUSED")
    assert api.delete(url(event_id, unused["id"]), as_=organizer).status_code == 204
    assert api.get(url(event_id, unused["id"]), as_=organizer).status_code == 404


def test_voucher_changes_are_in_the_audit_log(api, organizer):
    event_id = new_event(api, organizer)
    voucher = add_voucher(api, event_id, organizer, code="AUDIT")
    api.put(url(event_id, voucher["id"]), {"max_uses": 9}, as_=organizer)
    api.delete(url(event_id, voucher["id"]), as_=organizer)

    entries = api.get(f"/audit-log?target_id={voucher['id']}", as_=admin_user()).json_body
    actions = sorted(e["action"] for e in entries["entries"])

    assert actions == ["voucher.created", "voucher.deleted", "voucher.updated"]


def test_the_same_order_twice_with_one_key_uses_the_voucher_once(api, organizer):
    event_id = new_event(api, organizer)
    voucher = add_voucher(api, event_id, organizer, code="ONCEONLY", max_uses=1)
    buyer = buyer_body()
    headers = {"Idempotency-Key": "voucher-order-1"}

    first = with_voucher(api, event_id, [{"quantity": 1}], "ONCEONLY", buyer=buyer,
                         headers=headers)  # fmt: skip
    again = with_voucher(api, event_id, [{"quantity": 1}], "ONCEONLY", buyer=buyer,
                         headers=headers)  # fmt: skip

    assert first.status_code == again.status_code == 201
    assert first.json_body["order"]["id"] == again.json_body["order"]["id"]
    assert uses(event_id, voucher["id"]) == 1
    assert Ticket.count() == 1


def test_a_money_voucher_keeps_its_figure_when_the_events_currency_changes(api, organizer):
    # As ticket prices do: 1.50 GBP off becomes 1.50 off in the new currency, rounded half-up
    # where it has fewer decimals (JPY has none: 2).
    event_id = new_event(api, organizer, price="10")
    voucher = add_voucher(api, event_id, organizer, code="OFF", kind="amount", value="1.50")
    percent = add_voucher(api, event_id, organizer, code="PCT", value="10")

    changed = api.put(f"/events/{event_id}", {"currency_code": "JPY"}, as_=organizer)

    assert changed.status_code == 200, changed.json_body
    shown = api.get(url(event_id, voucher["id"]), as_=organizer).json_body["voucher"]
    assert shown["discount"] == {"type": "amount", "value": "2"}
    order = with_voucher(api, event_id, [{"quantity": 1}], "OFF").json_body["order"]
    assert (order["currency_code"], order["items"][0]["discount"], order["total"]) == (
        "JPY", "2", "8")  # fmt: skip
    assert api.get(url(event_id, percent["id"]), as_=organizer).json_body["voucher"][
        "discount"] == {"type": "percent", "value": "10"}  # fmt: skip
    # Set again in the new currency, it is stored in it.
    api.put(url(event_id, voucher["id"]), {"discount": {"type": "amount", "value": "3"}},
            as_=organizer)  # fmt: skip
    assert Voucher.get(event_id, voucher["id"]).currency_code == "JPY"
    assert with_voucher(api, event_id, [{"quantity": 1}], "OFF").json_body["order"][
        "total"] == "7"  # fmt: skip
