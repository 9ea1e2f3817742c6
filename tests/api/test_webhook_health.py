"""A webhook that keeps not answering: paused for longer and longer (deliveries wait,
uncounted), its owner told, then disabled; any answer closes the breaker. And the sending
slots: at most 2 attempts in flight per webhook and 5 per account, a crashed sender's slot
freed by its lease."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.db.base import utcnow
from chalicelib.db.deliveries import Delivery
from chalicelib.db.sending_slots import ACCOUNT_SLOTS, AccountSlots, release, take
from chalicelib.db.webhooks import Webhook
from chalicelib.services.stream import webhook_deliveries
from tests.api.test_webhooks import URL, book, log_of, subscribe
from tests.conftest import admin_user, drain_side_effects, drain_stream, make_event, make_user

pytestmark = pytest.mark.usefixtures("public_dns")


@pytest.fixture
def clock(monkeypatch):
    """The deliveries' clock, moved on by hand (`clock.advance(minutes=1)`)."""

    class Clock:
        offset = timedelta()

        def advance(self, **kwargs: float) -> None:
            self.offset += timedelta(**kwargs)

        def now(self):
            return utcnow() + self.offset

    moved = Clock()
    monkeypatch.setattr(webhook_deliveries, "utcnow", moved.now)
    return moved


def health_emails(to: str) -> list:
    from tests.conftest import sent_emails

    return [m for m in sent_emails() if to in m.to and "webhook" in m.subject.lower()]


def schedule_run(clock) -> None:
    webhook_deliveries.queue_due(clock.now())
    drain_stream()


def unanswered_sales(api, organizer, count: int) -> str:
    """`count` sales whose deliveries get no answer; returns the event."""
    event_id = make_event(organizer)
    for _ in range(count):
        book(api, event_id)
    drain_stream()
    return event_id


def test_five_unanswered_in_a_row_pause_the_webhook_and_its_owner_is_told(api, receiver, clock):
    organizer = make_user("organizer")
    webhook_id = subscribe(api, organizer).json_body["webhook"]["id"]  # URL: no answer

    event_id = unanswered_sales(api, organizer, 5)

    webhook = api.get(f"/webhooks/{webhook_id}", as_=organizer).json_body["webhook"]
    assert webhook["active"] is True
    assert webhook["paused_until"] is not None
    assert len(receiver.calls) == 5
    [told] = health_emails(organizer.email)
    assert "paused" in told.subject and webhook_id in told.body
    [entry] = api.get(f"/audit-log?action=webhook.paused&target_id={webhook_id}",
                      as_=admin_user()).json_body["entries"]  # fmt: skip
    assert entry["details"]["url"] == URL
    # While paused, a new sale's delivery waits, uncounted, until the pause ends.
    book(api, event_id)
    drain_stream()
    assert len(receiver.calls) == 5
    newest = log_of(api, organizer, webhook_id)[0]
    assert (newest["status"], newest["attempts"]) == ("pending", 0)
    assert newest["next_attempt_at"] == webhook["paused_until"]


def test_pause_after_pause_then_disabled_one_probe_each_time(api, receiver, clock):
    organizer = make_user("organizer")
    webhook_id = subscribe(api, organizer).json_body["webhook"]["id"]
    unanswered_sales(api, organizer, 5)
    probes = []
    for pause in webhook_deliveries.PAUSES:
        clock.advance(seconds=pause.total_seconds() + 1)
        before = len(receiver.calls)
        schedule_run(clock)
        probes.append(len(receiver.calls) - before)

    assert probes == [1, 1, 1, 1]  # one attempt after each pause, the others kept waiting
    webhook = api.get(f"/webhooks/{webhook_id}", as_=organizer).json_body["webhook"]
    assert webhook["active"] is False
    assert webhook["disabled_reason"] == "no answer, pause after pause"
    subjects = [m.subject for m in health_emails(organizer.email)]
    assert len(subjects) == 2 and "paused" in subjects[0] and "disabled" in subjects[1]
    # Disabled: what waited is dropped at its next turn, and nothing more is sent.
    clock.advance(days=1)
    schedule_run(clock)
    assert {d["status"] for d in log_of(api, organizer, webhook_id)} == {"disabled"}
    assert len(receiver.calls) == 9


def test_an_answer_after_a_pause_resumes_deliveries(api, receiver, clock):
    organizer = make_user("organizer")
    webhook_id = subscribe(api, organizer).json_body["webhook"]["id"]
    unanswered_sales(api, organizer, 5)
    receiver.replace(URL, 500)  # an error is an answer: the endpoint is there

    clock.advance(minutes=2)
    schedule_run(clock)

    webhook = Webhook.get(webhook_id, consistent_read=True)
    assert (webhook.unanswered_in_a_row, webhook.pauses, webhook.paused_until) == (None,) * 3
    assert (
        api.get(f"/webhooks/{webhook_id}", as_=organizer).json_body["webhook"]["paused_until"]
        is None
    )
    assert len(receiver.calls) == 10  # the probe, then the four that waited
    receiver.replace(URL, 200)
    clock.advance(minutes=10)
    schedule_run(clock)
    assert {d["status"] for d in log_of(api, organizer, webhook_id)} == {"delivered"}


def test_a_failing_receiver_that_answers_never_trips_the_breaker(api, receiver, clock):
    organizer = make_user("organizer")
    webhook_id = subscribe(api, organizer).json_body["webhook"]["id"]
    receiver.add(URL, 503)

    unanswered_sales(api, organizer, 8)

    webhook = Webhook.get(webhook_id, consistent_read=True)
    assert (webhook.active, webhook.paused_until) == (True, None)
    assert health_emails(organizer.email) == []


def test_an_account_has_five_sending_slots_and_a_lapsed_lease_frees_one(tables):
    account = AccountSlots(key="account:someone")
    held = [take(account, ACCOUNT_SLOTS, 60_000) for _ in range(5)]

    assert None not in held and len({name for name, _ in held}) == 5
    assert take(account, ACCOUNT_SLOTS, 60_000) is None
    release(account, *held[0])
    assert take(account, ACCOUNT_SLOTS, 60_000) is not None
    release(account, *held[1])
    release(account, *held[1])  # twice: the second finds nothing of its own to free
    lapsed = take(account, ACCOUNT_SLOTS, -1)  # a sender that crashed: its lease is over
    assert lapsed is not None
    assert take(account, ACCOUNT_SLOTS, 60_000) is not None
    release(account, lapsed[0], lapsed[1])  # its holder comes back late: frees nothing
    assert take(account, ACCOUNT_SLOTS, 60_000) is None


def test_with_the_accounts_slots_taken_an_attempt_waits_uncounted(api, receiver):
    organizer = make_user("organizer")
    webhook_id = subscribe(api, organizer).json_body["webhook"]["id"]
    receiver.add(URL, 200)
    account = AccountSlots(key=f"account:{organizer.id}")
    held = [take(account, ACCOUNT_SLOTS, 60_000) for _ in ACCOUNT_SLOTS]

    book(api, make_event(organizer))
    drain_stream()

    assert receiver.calls == []
    [waiting] = log_of(api, organizer, webhook_id)
    assert (waiting["status"], waiting["attempts"]) == ("pending", 0)
    for slot in held:
        release(account, *slot)
    webhook_deliveries.queue_due(utcnow() + timedelta(seconds=8))
    drain_side_effects()
    [done] = log_of(api, organizer, webhook_id)
    assert (done["status"], done["attempts"], len(receiver.calls)) == ("delivered", 1, 1)


def test_a_webhook_has_two_sending_slots(api):
    organizer = make_user("organizer")
    webhook_id = subscribe(api, organizer).json_body["webhook"]["id"]
    webhook = Webhook(id=webhook_id)

    taken = [take(webhook, webhook_deliveries.ENDPOINT_SLOTS, 60_000) for _ in range(3)]

    assert taken[2] is None and None not in taken[:2]
    assert Delivery.count() == 0
