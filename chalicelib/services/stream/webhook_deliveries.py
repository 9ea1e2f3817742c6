"""Webhook deliveries: made from the event stream, one attempt per side-effects message, so
every receiver costs only its own deliveries.

- `fan_out` (the stream's consumer) records one delivery per subscribed webhook; the consumer
  queues its first attempt. `queue_due` (every minute deployed) queues the attempts whose time
  has come: retries on RETRY_AFTER's schedule for up to three days, and any the queue lost.
- `attempt_queued` (the side-effects worker) makes one attempt: a 2xx within TIMEOUT_S is
  delivered, `410 Gone` disables the webhook, anything else waits for the next retry. Every
  attempt of one change sends the same body with the same `webhook-id` (the change's id), so
  receivers can drop repeats.
- At most ENDPOINT_SLOTS attempts are in flight to one webhook and ACCOUNT_SLOTS to one
  account's webhooks together (db/sending_slots.py); an attempt that finds no free slot waits
  BUSY_WAIT without counting as an attempt.
- The circuit breaker: after BREAKER_AFTER attempts in a row get no answer, the webhook is
  paused (deliveries wait, uncounted) for each of PAUSES in turn, one attempt probing after
  each pause; any answer closes it again. No answer after the last pause disables it. Its owner
  is emailed at the first pause and when it is disabled.
"""

from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timedelta

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import ADMIN, ORGANIZER, Principal
from chalicelib.db import transactions
from chalicelib.db.base import get_or_none, utcnow
from chalicelib.db.changes import Change
from chalicelib.db.deliveries import DELIVERED, DISABLED, DUE, FAILED, PENDING, Delivery
from chalicelib.db.sending_slots import ACCOUNT_SLOTS, AccountSlots, release, take
from chalicelib.db.transactions import condition_failed
from chalicelib.db.users import User
from chalicelib.db.webhooks import Webhook
from chalicelib.errors import NotFound
from chalicelib.services.stream import endpoints, side_effects, webhooks
from chalicelib.services.stream.changes import record as record_change
from chalicelib.settings import get_settings

log = logging.getLogger(__name__)

# After the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 14 h, 14 h, 16 h
# (71 h 35 min in all: the last attempt comes within three days of the change).
RETRY_AFTER = tuple(
    timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 36000, 50400, 50400, 57600)
)
TIMEOUT_S = 10
# An attempt's hold on its delivery and its sending slots: the POST's timeout, with room.
ATTEMPT_LEASE = timedelta(seconds=TIMEOUT_S * 3)
# A queued attempt not made by then is queued again by `queue_due`.
QUEUE_LEASE = timedelta(minutes=2)
ENDPOINT_SLOTS = ("sending_0", "sending_1")
BUSY_WAIT = timedelta(seconds=5)
BREAKER_AFTER = 5
PAUSES = tuple(timedelta(minutes=m) for m in (1, 5, 30, 120))
DUE_PER_RUN = 500


# --- the stream's consumer -------------------------------------------------------------


class Audience:
    """Who may hear of changes, read once per batch of the stream: a hot on-sale records
    thousands of changes a second for one organizer, and reading its webhooks, the admins'
    and its account again for each would make those partition keys hot. A batch's changes
    were all recorded before it was read, so one reading serves them all."""

    def __init__(self) -> None:
        self._owned: dict[str, list[Webhook]] = {}
        self._admins: list[Webhook] | None = None
        self._may_hear: dict[str, bool] = {}

    def webhooks_of(self, owner_id: str) -> list[Webhook]:
        if owner_id not in self._owned:
            self._owned[owner_id] = list(Webhook.by_owner.query(owner_id))
        return self._owned[owner_id]

    def admin_webhooks(self) -> list[Webhook]:
        if self._admins is None:
            self._admins = list(Webhook.by_role.query(ADMIN))
        return self._admins

    def may_hear(self, owner_id: str) -> bool:
        if owner_id not in self._may_hear:
            self._may_hear[owner_id] = _owner_may_hear(owner_id)
        return self._may_hear[owner_id]


def _owner_may_hear(owner_id: str) -> bool:
    """Not blocked (nor deleted): a blocked account hears nothing of what happens while it is
    blocked."""
    owner = get_or_none(User, owner_id, consistent_read=True)
    return owner is not None and not owner.blocked


def fan_out(change: Change, audience: Audience | None = None) -> list[Delivery]:
    """Record the change's delivery to every webhook subscribed to it (once per webhook,
    however often the stream hands the change over). Returns the new ones, to be queued."""
    if change.type not in webhooks.ADMIN_TYPES:
        return []
    subscribers = _subscribers(change, audience or Audience())
    new = [_new_delivery(change, webhook.id) for webhook in subscribers]
    return [delivery for delivery in new if delivery is not None]


def _subscribers(change: Change, audience: Audience) -> list[Webhook]:
    """The active webhooks that hear of this change, of owners who may hear."""
    data = change.data or {}
    owners = {data.get(k) for k in ("organizer_id", "seller_id", "reseller_id")} - {None}
    found = {w.id: w for owner in owners for w in audience.webhooks_of(owner)}
    found.update({w.id: w for w in audience.admin_webhooks()})
    hearing = [w for w in found.values() if w.active and change.type in w.types
               and _in_scope(w, data)]  # fmt: skip
    allowed = {owner for owner in {w.owner_id for w in hearing} if audience.may_hear(owner)}
    return [w for w in hearing if w.owner_id in allowed]


def _in_scope(webhook: Webhook, data: dict) -> bool:
    """An organizer hears about its events, a reseller about its sales and allocations, an
    admin about everything."""
    role, owner = webhook.owner_role, webhook.owner_id
    if role == ADMIN:
        return True
    if role == ORGANIZER:
        return data.get("organizer_id") == owner
    return owner in (data.get("seller_id"), data.get("reseller_id"))


def payload_of(change: Change) -> dict:
    data = {k: v for k, v in (change.data or {}).items() if k != "buyer_id"}
    data.update(target_type=change.target_type, target_id=change.target_id)
    if change.event_id:
        data["event_id"] = change.event_id
    at = change.at.isoformat().replace("+00:00", "Z")
    return {"id": change.id, "type": change.type, "created_at": at, "data": data}


def _new_delivery(change: Change, webhook_id: str) -> Delivery | None:
    now = utcnow()
    delivery = Delivery(
        id=f"{change.id}:{webhook_id}", change_id=change.id, destination=webhook_id,
        type=change.type, status=PENDING, attempts=0, webhook_id=webhook_id,
        event_id=change.event_id, payload=payload_of(change), next_attempt_at=now, due=DUE,
        queued_until=now + QUEUE_LEASE, created_at=now,
    )  # fmt: skip
    try:
        delivery.save(condition=Delivery.id.does_not_exist())
    except PutError as exc:
        if not condition_failed(exc):
            raise
        return None  # already fanned out: its message went, or `queue_due` sends one
    return delivery


# --- the schedule ----------------------------------------------------------------------


def queue_due(now: datetime | None = None) -> int:
    """Queue an attempt of each delivery whose next attempt is due and that no queued message
    has already (run every minute); returns how many."""
    now = now or utcnow()
    unqueued = Delivery.queued_until.does_not_exist() | (Delivery.queued_until < now)
    due = Delivery.due_index.query(
        DUE, Delivery.next_attempt_at <= now, filter_condition=unqueued, limit=DUE_PER_RUN
    )
    messages = []
    for delivery in due:
        try:
            delivery.update(
                actions=[Delivery.queued_until.set(now + QUEUE_LEASE)],
                condition=(Delivery.status == PENDING) & unqueued,
            )
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            continue  # another run queued it, or it was made meanwhile
        messages.append(side_effects.webhook_message(delivery.id, int(delivery.attempts or 0)))
    return side_effects.enqueue(messages)


def retry_now(*, actor: Principal, webhook_id: str, delivery_id: str) -> Delivery:
    """Queue the delivery's next attempt now, whatever happened before (a delivered one is sent
    again too)."""
    webhooks.get(actor=actor, webhook_id=webhook_id)
    delivery = get_or_none(Delivery, delivery_id, consistent_read=True)
    if delivery is None or delivery.webhook_id != webhook_id:
        raise NotFound()
    now = utcnow()
    delivery.update(
        actions=[Delivery.status.set(PENDING), Delivery.next_attempt_at.set(now),
                 Delivery.due.set(DUE), Delivery.queued_until.set(now + QUEUE_LEASE),
                 Delivery.claimed_until.remove()],
    )  # fmt: skip
    side_effects.enqueue([side_effects.webhook_message(delivery.id, int(delivery.attempts or 0))])
    return delivery


def retry_schedule() -> tuple[timedelta, ...]:
    custom = get_settings().webhook_retry_after
    return tuple(timedelta(seconds=s) for s in custom) if custom else RETRY_AFTER


# --- the side-effects worker -----------------------------------------------------------


def attempt_queued(delivery_id: str, attempts: int) -> int | None:
    """The attempt a side-effects message asks for, if it is still the next one: the answer's
    HTTP status (0: no answer), or None when no attempt was made."""
    now = utcnow()
    free = Delivery.claimed_until.does_not_exist() | (Delivery.claimed_until < now)
    delivery = Delivery(id=delivery_id)
    try:
        delivery.update(
            actions=[Delivery.claimed_until.set(now + ATTEMPT_LEASE)],
            condition=(Delivery.status == PENDING) & (Delivery.attempts == attempts) & free,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return None  # made already (or being made), or gone: this message is stale
    return _attempt(delivery, now)


def _attempt(delivery: Delivery, now: datetime) -> int | None:
    webhook = get_or_none(Webhook, delivery.webhook_id or "", consistent_read=True)
    if webhook is None or not webhook.active:
        _finish(delivery, DISABLED, last_status=delivery.last_status)
        return None
    if webhook.paused_until and webhook.paused_until > now:
        _wait(delivery, webhook.paused_until)
        return None
    if not _owner_may_hear(webhook.owner_id):
        # Nothing is sent while its owner is blocked, and the attempt counts as unanswered,
        # so the schedule goes on: unblocked in time, a later attempt delivers it.
        return _record(delivery, webhook, 0, now, counts_against_webhook=False)
    slots = _take_slots(webhook)
    if slots is None:
        jitter = timedelta(seconds=random.uniform(0, 2))  # noqa: S311 (spreads retries)
        _wait(delivery, now + BUSY_WAIT + jitter)
        return None
    try:
        status = _post(webhook.url, webhook.id, delivery)
    finally:
        _release_slots(webhook, slots)
    return _record(delivery, webhook, status, now, counts_against_webhook=True)


def _take_slots(webhook: Webhook) -> tuple | None:
    """A sending slot of the webhook's account, then one of the webhook; None if either is
    full (nothing held then)."""
    lease_ms = int(ATTEMPT_LEASE.total_seconds() * 1000)
    account = AccountSlots(key=f"account:{webhook.owner_id}")
    expires = AccountSlots.expires_at.set(utcnow() + timedelta(days=1))
    held_account = take(account, ACCOUNT_SLOTS, lease_ms, extra=[expires])
    if held_account is None:
        return None
    held_endpoint = take(
        Webhook(id=webhook.id), ENDPOINT_SLOTS, lease_ms, known=webhook,
        also=Webhook.id.exists() & (Webhook.active == True),  # noqa: E712 (an expression)
    )  # fmt: skip
    if held_endpoint is None:
        release(account, *held_account)
        return None
    return (account, held_account), (Webhook(id=webhook.id), held_endpoint)


def _release_slots(webhook: Webhook, slots: tuple) -> None:
    for item, (name, until) in slots:
        try:
            release(item, name, until)
        except Exception:  # its lease runs out by itself; the answer matters more
            log.warning("sending slot %s of %s not released", name, item)


def _record(
    delivery: Delivery, webhook: Webhook, status: int, now: datetime, *,
    counts_against_webhook: bool,
) -> int:  # fmt: skip
    attempts = int(delivery.attempts or 0) + 1
    if 200 <= status < 300:
        _finish(delivery, DELIVERED, last_status=status, attempts=attempts)
    elif status == 410:
        gone = [Webhook.active.set(False), Webhook.disabled_reason.set("410 Gone")]
        _update_if_there(webhook, gone)  # a webhook deleted meanwhile is not made again
        _finish(delivery, DISABLED, last_status=410, attempts=attempts)
    elif attempts > len(schedule := retry_schedule()):
        _finish(delivery, FAILED, last_status=status, attempts=attempts)
    else:
        delivery.update(
            actions=[
                Delivery.attempts.set(attempts),
                Delivery.last_status.set(status),
                Delivery.next_attempt_at.set(now + schedule[attempts - 1]),
                Delivery.due.set(DUE),
                Delivery.claimed_until.remove(),
                Delivery.queued_until.remove(),
            ]
        )
    if counts_against_webhook:
        _breaker(webhook, status, now)
    log.info(json.dumps({"event": "webhook_attempt", "delivery": delivery.id,
                         "status": status, "attempts": attempts}))  # fmt: skip
    return status


def _wait(delivery: Delivery, until: datetime) -> None:
    """Put the attempt off until `until` without counting it (the schedule queues it then)."""
    delivery.update(
        actions=[Delivery.next_attempt_at.set(until), Delivery.due.set(DUE),
                 Delivery.claimed_until.remove(), Delivery.queued_until.remove()],
    )  # fmt: skip


def _finish(delivery: Delivery, status: str, *, last_status: int | None,
            attempts: int | None = None) -> None:  # fmt: skip
    actions = [Delivery.status.set(status), Delivery.due.remove(),
               Delivery.next_attempt_at.remove(), Delivery.claimed_until.remove(),
               Delivery.queued_until.remove()]  # fmt: skip
    if last_status is not None:
        actions.append(Delivery.last_status.set(last_status))
    if attempts is not None:
        actions.append(Delivery.attempts.set(attempts))
    if status == DELIVERED:
        actions.append(Delivery.delivered_at.set(utcnow()))
    delivery.update(actions=actions)


def _post(url: str, webhook_id: str, delivery: Delivery) -> int:
    """POST the signed body to the address checked just now; no redirects followed."""
    from standardwebhooks import Webhook as Signer

    try:
        target = endpoints.check(url)
    except endpoints.UnsafeEndpoint as exc:
        log.warning("webhook %s not delivered: %s", webhook_id, exc)
        return 0
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
    sent_at = utcnow()
    headers = {
        "Content-Type": "application/json",
        "webhook-id": delivery.change_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Signer(webhooks.secret_for(webhook_id)).sign(
            delivery.change_id, sent_at, body
        ),
        "User-Agent": "events-api-webhooks/1",
    }
    return endpoints.post(target, body.encode(), headers, TIMEOUT_S)


# --- the circuit breaker ---------------------------------------------------------------


def _breaker(webhook: Webhook, status: int, now: datetime) -> None:
    """Count an attempt that got no answer (and pause or disable the webhook when they add up);
    any answer, even an error, closes the breaker again."""
    if status != 0:
        if webhook.unanswered_in_a_row or webhook.pauses or webhook.paused_until:
            _update_if_there(
                webhook,
                [
                    Webhook.unanswered_in_a_row.remove(),
                    Webhook.pauses.remove(),
                    Webhook.paused_until.remove(),
                ],
            )
        return  # fmt: skip
    if not _update_if_there(webhook, [Webhook.unanswered_in_a_row.add(1)]):
        return
    if int(webhook.unanswered_in_a_row or 0) < BREAKER_AFTER:
        return
    if webhook.paused_until and webhook.paused_until > now:
        return  # paused already, by an attempt that ran alongside this one
    _trip(webhook, int(webhook.pauses or 0), now)


def _update_if_there(webhook: Webhook, actions: list) -> bool:
    try:
        webhook.update(actions=actions, condition=Webhook.id.exists())
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return False  # deleted meanwhile
    return True


def _trip(webhook: Webhook, pauses: int, now: datetime) -> None:
    """Pause the webhook for its next pause, or disable it after the last; its owner is told
    (in the same transaction, so a concurrent trip tells nobody twice)."""
    last = pauses >= len(PAUSES)
    unchanged = (Webhook.pauses == pauses) if pauses else Webhook.pauses.does_not_exist()
    paused = Webhook.paused_until.does_not_exist() | (Webhook.paused_until <= now)
    condition = unchanged & paused & (Webhook.active == True)  # noqa: E712 (an expression)
    if last:
        actions = [Webhook.active.set(False),
                   Webhook.disabled_reason.set("no answer, pause after pause")]  # fmt: skip
        until = None
    else:
        until = now + PAUSES[pauses]
        actions = [Webhook.pauses.set(pauses + 1), Webhook.paused_until.set(until)]
    data = {"owner_id": webhook.owner_id, "url": webhook.url,
            "unanswered": int(webhook.unanswered_in_a_row or 0)}  # fmt: skip
    if until is not None:
        data["paused_until"] = until.isoformat().replace("+00:00", "Z")

    def build(tx: TransactWrite) -> None:
        tx.update(Webhook(id=webhook.id), actions=actions, condition=condition)
        if last or pauses == 0:  # told at the first pause and when disabled, not in between
            record_change(
                tx, "webhook.disabled" if last else "webhook.paused", actor=None,
                target_type="webhook", target_id=webhook.id, details={"url": webhook.url},
                data=data,
            )  # fmt: skip

    if transactions.write_unless_refused(build):
        log.warning(
            json.dumps(
                {
                    "event": "webhook_breaker",
                    "webhook": webhook.id,
                    "disabled": last,
                    "paused_until": data.get("paused_until"),
                }
            )
        )
