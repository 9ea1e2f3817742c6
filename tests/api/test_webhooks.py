"""Webhooks: subscriptions, SSRF refusals, and deliveries from the event stream, signed per
Standard Webhooks, retried on schedule, disabled by 410, logged, retried by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from standardwebhooks import Webhook as Verifier

from chalicelib.db.base import utcnow
from chalicelib.db.webhooks import Webhook
from chalicelib.services.stream import endpoints, webhook_deliveries
from tests.conftest import (
    admin_user,
    buyer_body,
    drain_side_effects,
    drain_stream,
    make_event,
    make_user,
)

URL = "https://hooks.example.com/tickets"


pytestmark = pytest.mark.usefixtures("public_dns")


def subscribe(api, user, events=("ticket.sold",), url=URL):
    return api.post("/webhooks", {"url": url, "events": list(events)}, as_=user)


def book(api, event_id, quantity=1):
    answer = api.post(
        "/sold-tickets", {"event_id": event_id, "quantity": quantity, "buyer": buyer_body()}
    )
    assert answer.status_code == 201, answer.body
    return answer.json_body["tickets"]


def run_schedule(at) -> int:
    """The retry schedule's run at `at` (it queues what is due), then the queue's worker."""
    queued = webhook_deliveries.queue_due(at)
    drain_side_effects()
    return queued


def log_of(api, user, webhook_id):
    return api.get(f"/webhooks/{webhook_id}/deliveries", as_=user).json_body["deliveries"]


# --- subscriptions ---------------------------------------------------------------------


def test_an_organizer_subscribes_and_sees_the_secret_once(api):
    organizer = make_user("organizer")

    created = subscribe(api, organizer, ("ticket.sold", "event.updated"))

    assert created.status_code == 201
    body = created.json_body
    assert body["secret"].startswith("whsec_")
    assert body["webhook"]["events"] == ["event.updated", "ticket.sold"]
    shown = api.get(f"/webhooks/{body['webhook']['id']}", as_=organizer).json_body["webhook"]
    assert "secret" not in shown
    assert [w["id"] for w in api.get("/webhooks", as_=organizer).json_body["webhooks"]] == [
        body["webhook"]["id"]
    ]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.com/x", "https"),
        ("https://internal.example/x", "private"),
        ("https://127.0.0.1/x", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("https://[::1]/x", "private"),
        ("https://user:pw@hooks.example.com/x", "Credentials"),
        ("ftp://hooks.example.com/x", "https"),
        ("https://hooks.example.com:99999/x", "valid"),
        ("https://0x7f000001/x", "private"),
        ("https://[::ffff:10.0.0.1]/x", "private"),
    ],
)
def test_unsafe_endpoints_are_refused(api, public_dns, url, why):
    public_dns["127.0.0.1"] = ["127.0.0.1"]
    public_dns["169.254.169.254"] = ["169.254.169.254"]
    public_dns["::1"] = ["::1"]
    public_dns["0x7f000001"] = ["127.0.0.1"]  # what getaddrinfo makes of it
    public_dns["::ffff:10.0.0.1"] = ["::ffff:10.0.0.1"]
    public_dns["internal.example"] = ["93.184.215.14", "10.1.2.3"]  # one bad address is enough

    answer = subscribe(api, make_user("organizer"), url=url)

    assert answer.status_code == 400, answer.body
    assert why in answer.json_body["details"]["url"]
    assert Webhook.count() == 0


def test_types_are_checked_against_the_role(api):
    assert subscribe(api, make_user("reseller"), ("user.blocked",)).status_code == 400
    assert subscribe(api, make_user("organizer"), ("nope",)).status_code == 400
    assert subscribe(api, admin_user(), ("user.blocked",)).status_code == 201
    assert api.post("/webhooks", {"url": URL, "events": []}, as_=admin_user()).status_code == 400


def test_only_the_owner_or_an_admin_reads_or_deletes_a_webhook(api):
    owner = make_user("organizer")
    webhook_id = subscribe(api, owner).json_body["webhook"]["id"]

    assert api.get(f"/webhooks/{webhook_id}", as_=make_user("organizer")).status_code == 403
    assert api.delete(f"/webhooks/{webhook_id}", as_=make_user("reseller")).status_code == 403
    assert api.get(f"/webhooks/{webhook_id}", as_=admin_user()).status_code == 200
    assert api.delete(f"/webhooks/{webhook_id}", as_=owner).status_code == 204
    assert api.get(f"/webhooks/{webhook_id}", as_=owner).status_code == 404


# --- deliveries ------------------------------------------------------------------------


def test_a_sale_is_delivered_signed_per_standard_webhooks(api, receiver):
    organizer = make_user("organizer")
    created = subscribe(api, organizer).json_body
    receiver.add(URL, 204)
    event_id = make_event(organizer)
    tickets = book(api, event_id, quantity=2)

    drain_stream()

    [call] = receiver.calls
    payload = Verifier(created["secret"]).verify(call.body, call.headers)
    assert payload["type"] == "ticket.sold"
    assert payload["data"]["ticket_ids"] == [t["id"] for t in tickets]
    assert payload["data"]["event_id"] == event_id
    assert "buyer_id" not in payload["data"]
    assert call.headers["webhook-id"] == payload["id"]
    [logged] = log_of(api, organizer, created["webhook"]["id"])
    assert (logged["status"], logged["attempts"], logged["last_status"]) == ("delivered", 1, 204)


def test_a_failing_receiver_is_retried_on_schedule_and_the_log_shows_each_attempt(api, receiver):
    organizer = make_user("organizer")
    webhook_id = subscribe(api, organizer).json_body["webhook"]["id"]
    for status in (500, 500, 200):
        receiver.add(URL, status)
    book(api, make_event(organizer))

    drain_stream()
    assert run_schedule(utcnow()) == 0  # not due for 5 s
    assert run_schedule(utcnow() + timedelta(seconds=6)) == 1
    [pending] = log_of(api, organizer, webhook_id)
    assert (pending["status"], pending["attempts"], pending["last_status"]) == ("pending", 2, 500)
    assert run_schedule(utcnow() + timedelta(minutes=6)) == 1

    [done] = log_of(api, organizer, webhook_id)
    assert (done["status"], done["attempts"], done["last_status"]) == ("delivered", 3, 200)
    assert len(receiver.calls) == 3
    assert len({c.headers["webhook-id"] for c in receiver.calls}) == 1


def test_410_gone_disables_the_webhook(api, receiver):
    organizer = make_user("organizer")
    webhook_id = subscribe(api, organizer).json_body["webhook"]["id"]
    receiver.add(URL, 410)
    event_id = make_event(organizer)
    book(api, event_id)
    drain_stream()

    book(api, event_id)
    drain_stream()

    assert api.get(f"/webhooks/{webhook_id}", as_=organizer).json_body["webhook"]["active"] is False
    assert len(receiver.calls) == 1
    assert [d["status"] for d in log_of(api, organizer, webhook_id)] == ["disabled"]


def test_a_change_handed_over_twice_is_delivered_once(api, receiver):
    from chalicelib.consumers.changes import handle_records
    from devstack.streams import as_handler_input
    from tests.services.test_event_stream import stream_records

    organizer = make_user("organizer")
    subscribe(api, organizer)
    receiver.add(URL, 200)
    book(api, make_event(organizer))
    records = as_handler_input(stream_records())

    handle_records(records)
    handle_records(records)
    drain_side_effects()

    assert len(receiver.calls) == 1


def test_an_attempt_queued_twice_is_made_once(api, receiver):
    """SQS delivers at least once: the second copy of a message finds the attempt made."""
    from chalicelib.services.stream import side_effects

    organizer = make_user("organizer")
    webhook_id = subscribe(api, organizer).json_body["webhook"]["id"]
    receiver.add(URL, 200)
    book(api, make_event(organizer))
    drain_stream()
    [delivery] = log_of(api, organizer, webhook_id)

    side_effects.enqueue([side_effects.webhook_message(delivery["id"], 0)] * 2)
    drain_side_effects()

    assert len(receiver.calls) == 1
    [after] = log_of(api, organizer, webhook_id)
    assert (after["status"], after["attempts"]) == ("delivered", 1)


def test_each_owner_hears_only_about_its_own_things(api, receiver, public_dns):
    public_dns["other.example.com"] = ["93.184.215.15"]
    organizer, other, reseller = (make_user(r) for r in ("organizer", "organizer", "reseller"))
    subscribe(api, other, url="https://other.example.com/x")
    subscribe(api, reseller, ("ticket.sold", "allocation.changed"))
    receiver.add(URL, 200)
    receiver.add("https://other.example.com/x", 200)
    event_id = make_event(organizer)
    api.put(
        f"/events/{event_id}/allocations/{reseller.id}", {"number_of_tickets": 2}, as_=organizer
    )
    book(api, event_id)  # the organizer's own sale: not the reseller's business

    drain_stream()

    assert [c.url for c in receiver.calls] == [URL]  # the allocation only
    assert '"allocation.changed"' in receiver.calls[0].body.decode()


def test_a_delivery_is_retried_by_hand(api, receiver):
    organizer = make_user("organizer")
    webhook_id = subscribe(api, organizer).json_body["webhook"]["id"]
    receiver.add(URL, 200)
    book(api, make_event(organizer))
    drain_stream()
    [first] = log_of(api, organizer, webhook_id)

    again = api.post(f"/webhooks/{webhook_id}/deliveries/{first['id']}/retry", as_=organizer)

    assert again.status_code == 202
    assert (again.json_body["status"], again.json_body["attempts"]) == ("pending", 1)
    assert len(receiver.calls) == 1  # queued: the request itself sends nothing
    drain_side_effects()
    assert len(receiver.calls) == 2
    [done] = log_of(api, organizer, webhook_id)
    assert (done["status"], done["attempts"]) == ("delivered", 2)
    stranger = api.post(
        f"/webhooks/{webhook_id}/deliveries/{first['id']}/retry", as_=make_user("organizer")
    )
    assert stranger.status_code == 403


def test_creating_and_deleting_a_webhook_are_audited(api):
    organizer = make_user("organizer")
    webhook_id = subscribe(api, organizer).json_body["webhook"]["id"]
    api.delete(f"/webhooks/{webhook_id}", as_=organizer)

    for action in ("webhook.created", "webhook.revoked"):
        found = api.get(f"/audit-log?action={action}&target_id={webhook_id}", as_=admin_user())
        [entry] = found.json_body["entries"]
        assert entry["actor_id"] == organizer.id
        assert entry["details"]["url"] == URL


@pytest.mark.parametrize(
    "url",
    ["https://hooks.example.com/a b", "https://hooks.example.com/\r\nX: y", "https://häx.example/"],
)
def test_urls_with_spaces_control_characters_or_raw_unicode_are_a_400(api, url):
    answer = subscribe(api, make_user("organizer"), url=url)

    assert answer.status_code == 400
    assert Webhook.count() == 0


def test_the_delivery_goes_to_the_address_checked_then_whatever_the_name_says_later(
    api, receiver, public_dns
):
    organizer = make_user("organizer")
    subscribe(api, organizer)
    receiver.add(URL, 200)
    book(api, make_event(organizer))
    answers = iter([["93.184.215.14"], ["10.0.0.9"]])  # a rebinding name: public, then private
    public_dns_resolve = endpoints.resolve

    def rebinding(host):
        return (
            next(answers, ["10.0.0.9"]) if host == "hooks.example.com" else public_dns_resolve(host)
        )

    endpoints.resolve = rebinding
    try:
        drain_stream()
    finally:
        endpoints.resolve = public_dns_resolve

    [call] = receiver.calls
    assert call.address == "93.184.215.14"  # the connection never asks the name again


def test_a_blocked_accounts_webhooks_are_paused_and_resume_when_unblocked(api, receiver):
    organizer, other = make_user("organizer"), make_user("organizer")
    paused = subscribe(api, organizer).json_body["webhook"]["id"]
    other_url = "https://hooks.example.com/other"
    kept = subscribe(api, other, url=other_url).json_body["webhook"]["id"]
    receiver.add(URL, 200)
    receiver.add(other_url, 200)
    event_id, other_event = make_event(organizer), make_event(other)
    admin = admin_user()
    assert api.put(f"/users/{organizer.id}", {"blocked": True}, as_=admin).status_code == 200

    book(api, event_id)
    book(api, other_event)
    drain_stream()

    assert [c.url for c in receiver.calls] == [other_url]  # the other owner loses nothing
    assert log_of(api, admin, paused) == []
    assert [d["status"] for d in log_of(api, other, kept)] == ["delivered"]
    assert api.put(f"/users/{organizer.id}", {"blocked": False}, as_=admin).status_code == 200
    book(api, event_id)
    drain_stream()
    assert [c.url for c in receiver.calls] == [other_url, URL]


def test_a_pending_delivery_is_not_made_while_its_owner_is_blocked(api, receiver):
    organizer = make_user("organizer")
    webhook_id = subscribe(api, organizer).json_body["webhook"]["id"]
    for status in (500, 200):
        receiver.add(URL, status)
    book(api, make_event(organizer))
    drain_stream()
    admin = admin_user()
    api.put(f"/users/{organizer.id}", {"blocked": True}, as_=admin)

    run_schedule(utcnow() + timedelta(seconds=6))

    assert len(receiver.calls) == 1  # nothing sent for a blocked account
    [pending] = log_of(api, admin, webhook_id)
    assert (pending["status"], pending["attempts"]) == ("pending", 2)
    api.put(f"/users/{organizer.id}", {"blocked": False}, as_=admin)
    run_schedule(utcnow() + timedelta(minutes=6))
    [done] = log_of(api, admin, webhook_id)
    assert (done["status"], len(receiver.calls)) == ("delivered", 2)


def test_a_delivery_whose_message_was_lost_is_queued_again_by_the_schedule(
    api, receiver, monkeypatch
):
    """The consumer recorded the delivery, then died before queueing its attempt."""
    from chalicelib.services.stream import side_effects
    from tests.conftest import consume_stream

    organizer = make_user("organizer")
    webhook_id = subscribe(api, organizer).json_body["webhook"]["id"]
    receiver.add(URL, 200)
    book(api, make_event(organizer))

    real_enqueue = side_effects.enqueue

    def dies_at_the_sale(messages):
        if any(m["kind"] == side_effects.WEBHOOK for m in messages):
            raise RuntimeError("the consumer's Lambda dies here")
        return real_enqueue(messages)

    with monkeypatch.context() as patched:
        patched.setattr(side_effects, "enqueue", dies_at_the_sale)
        with pytest.raises(RuntimeError):
            consume_stream()
    consume_stream()  # the batch again: the delivery exists, so nothing new is queued for it
    drain_side_effects()
    assert receiver.calls == []
    assert run_schedule(utcnow() + timedelta(minutes=1)) == 0  # the queue may still have it

    assert run_schedule(utcnow() + timedelta(minutes=3)) == 1
    [done] = log_of(api, organizer, webhook_id)
    assert (done["status"], done["attempts"], len(receiver.calls)) == ("delivered", 1, 1)


def test_messages_that_are_not_ours_are_dropped_and_a_failing_one_alone_comes_back(monkeypatch):
    from chalicelib.consumers import side_effects as worker
    from chalicelib.services.stream import webhook_deliveries as deliveries

    def broken(delivery_id, attempts):
        raise RuntimeError("DynamoDB is down")

    monkeypatch.setattr(deliveries, "attempt_queued", broken)
    outcomes = worker.carry_out_batch([
        ("a", "not json"), ("b", '{"kind": "mystery"}'), ("c", "[1, 2]"), ("d", "{}"),
        ("e", '{"kind": "webhook", "delivery": "x", "attempts": 0}'),
    ])  # fmt: skip

    assert worker.partial_batch_response(outcomes) == {
        "batchItemFailures": [{"itemIdentifier": "e"}]
    }


def test_a_webhook_deleted_while_its_endpoint_answers_410_stays_deleted(api, receiver):
    organizer = make_user("organizer")
    webhook_id = subscribe(api, organizer).json_body["webhook"]["id"]
    book(api, make_event(organizer))

    def deleted_meanwhile(target, body, headers, timeout_s):
        assert api.delete(f"/webhooks/{webhook_id}", as_=organizer).status_code == 204
        return 410

    endpoints.post = deleted_meanwhile  # the receiver fixture puts the real one back
    drain_stream()

    assert Webhook.count() == 0  # no half item written back by the 410
    assert api.get(f"/webhooks/{webhook_id}", as_=organizer).status_code == 404
