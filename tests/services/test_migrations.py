"""The setup step brings stored items up to the model: events stored before ticket types get
their "General admission" type; orders and tickets stored before index keys get theirs."""

from datetime import timedelta

from chalicelib.bootstrap import bootstrap
from chalicelib.db.allocations import Allocation, type_shares
from chalicelib.db.base import new_id, utcnow
from chalicelib.db.events import Event
from chalicelib.db.orders import Order
from chalicelib.db.ticket_types import UNLIMITED, TicketType
from chalicelib.db.tickets import Holder, Ticket
from chalicelib.services.operations import migrations
from chalicelib.settings import get_settings
from tests.conftest import buyer_body, make_user


def legacy_event(organizer, reseller, *, sold_by_organizer=2, sold_by_reseller=1):
    """An event, its pools and tickets as the release before ticket types stored them."""
    now = utcnow()
    event = Event(id=new_id(), title="Old", time=now + timedelta(days=5), price_minor=2500,
                  currency_code="GBP", number_of_tickets=10, organizer_id=organizer.id,
                  seller_ids={organizer.id, reseller.id})  # fmt: skip
    event.save()
    Allocation(event_id=event.id, seller_id=organizer.id, seller_role="organizer",
               number_of_tickets=6, sold=sold_by_organizer, available=6 - sold_by_organizer,
               on_sale=True).save()  # fmt: skip
    Allocation(event_id=event.id, seller_id=reseller.id, seller_role="reseller",
               number_of_tickets=4, sold=sold_by_reseller, available=4 - sold_by_reseller,
               on_sale=True).save()  # fmt: skip
    for seller, count in ((organizer, sold_by_organizer), (reseller, sold_by_reseller)):
        for _ in range(count):
            Ticket(id=new_id(), event_id=event.id, seller_id=seller.id, organizer_id=organizer.id,
                   buyer_id="b", holder=Holder(name="B", phone="+442079460958"),
                   code="ABCD-EFGH-JKLM", price_minor=2500, currency_code="GBP",
                   created_at=now).save()  # fmt: skip
    return event


def test_a_legacy_event_gets_its_general_admission_type_with_the_counts_it_had(tables, api):
    organizer, reseller = make_user("organizer"), make_user("reseller")
    event = legacy_event(organizer, reseller)
    early = api.post("/sold-tickets", {"event_id": event.id, "buyer": buyer_body()})
    assert early.status_code == 409  # before the setup step ran: nothing sold, told to retry
    assert early.json_body["code"] == "event_not_ready"

    assert migrations.add_ticket_types() == 1

    ticket_type = TicketType.get(event.id, event.id)
    assert (ticket_type.name, ticket_type.price_minor, ticket_type.sold) == (
        "General admission",
        2500,
        3,
    )
    assert ticket_type.remaining == UNLIMITED - 3
    assert Event.get(event.id).ticket_type_ids == {event.id}
    assert type_shares(Allocation.get(event.id, reseller.id)) == {
        event.id: {"share": 4, "sold": 1, "held": 0, "available": 3}
    }
    assert {t.ticket_type_id for t in Ticket.by_event.query(event.id)} == {event.id}
    # ... and it sells and lists as any event does.
    types = api.get(f"/events/{event.id}/ticket-types").json_body["ticket_types"]
    assert [(t["name"], t["sold"], t["available"]) for t in types] == [("General admission", 3, 4)]
    sold = api.post("/sold-tickets", {"event_id": event.id, "seller_id": reseller.id,
                                      "buyer": buyer_body()})  # fmt: skip
    assert sold.status_code == 201, sold.json_body
    assert sold.json_body["tickets"][0]["ticket_type_name"] == "General admission"


def test_running_the_migration_again_changes_nothing(tables):
    organizer, reseller = make_user("organizer"), make_user("reseller")
    event = legacy_event(organizer, reseller)
    bootstrap(get_settings(), create_missing_tables=True)
    before = TicketType.get(event.id, event.id).sold

    assert migrations.add_ticket_types() == 0
    assert TicketType.get(event.id, event.id).sold == before == 3


def test_orders_and_tickets_stored_before_index_keys_get_the_plain_ones(tables, api):
    """Items stored before the index keys existed are in no listing until the setup step
    gives them their keys; then every list finds them, and a second run changes nothing."""
    organizer = make_user("organizer")
    created = api.post("/events", {"title": "Old", "price": "10", "currency_code": "GBP",
                                   "time": (utcnow() + timedelta(days=5)).isoformat(),
                                   "number_of_tickets": 10}, as_=organizer)  # fmt: skip
    event_id = created.json_body["event"]["id"]
    sold = api.post("/orders", {"event_id": event_id, "items": [{"quantity": 2}],
                                "buyer": buyer_body()}).json_body["order"]  # fmt: skip
    stored = [Order.get(sold["id"]), *(Ticket.get(t["id"]) for t in sold["tickets"])]
    for item in stored:  # as the release before stored them
        model = type(item)
        item.update(actions=[model.event_part.remove(), model.organizer_part.remove(),
                             model.seller_part.remove()])  # fmt: skip
    listing = api.get(f"/orders?event_id={event_id}", as_=organizer).json_body["orders"]
    assert listing == []

    assert migrations.add_index_parts() == 3

    listing = api.get(f"/orders?event_id={event_id}", as_=organizer).json_body["orders"]
    assert [o["id"] for o in listing] == [sold["id"]]
    tickets = api.get("/sold-tickets", as_=organizer).json_body["tickets"]
    assert sorted(t["id"] for t in tickets) == sorted(t["id"] for t in sold["tickets"])
    assert migrations.add_index_parts() == 0
