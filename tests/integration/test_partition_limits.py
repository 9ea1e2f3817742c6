"""The local stack under the emulator's partition model (DYNAMODB_LIMITS, scaled down 25x from
AWS's 1,000 WCU per partition key to 40): one event's orders saturate at one partition key's
rate, what is refused is a 503 with Retry-After and nothing half-written, and no ticket is sold
twice. RATE_LIMITS=off: the load comes from one address."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.integration.conftest import start
from tests.integration.test_order_races import online_event
from tests.integration.test_ticket_races import Caller, buyer, seller

pytestmark = pytest.mark.integration

WCU = 40  # per partition key per second: a transactional write of one item costs 2
LOAD_S = 6.0


@pytest.fixture(scope="module")
def modelled_stack(tmp_path_factory, fake_providers):
    env = {**fake_providers.env(), "RATE_LIMITS": "off",
           "DYNAMODB_LIMITS": f"wcu:{WCU},rcu:{3 * WCU},conflict_ms:2"}  # fmt: skip
    stack = start(None, tmp_path_factory.mktemp("partitions") / "stack.log", env)
    yield stack
    stack.stop()


def rush(stack, event_id):
    """12 clients ordering one ticket each for LOAD_S with the model's counters zeroed: the
    answers, the seconds it took and the model's figures after."""
    emulator = stack.emulator_url
    time.sleep(1.5)  # the buckets the setup spent refill
    requests.delete(f"{emulator}/_devstack/partitions", timeout=10)
    answers: list[requests.Response] = []
    stop = time.monotonic() + LOAD_S

    def client() -> None:
        caller = Caller(stack)
        while time.monotonic() < stop:
            body = {"event_id": event_id, "items": [{"quantity": 1}], "buyer": buyer()}
            answers.append(caller("POST", "/orders", body))

    threads = [threading.Thread(target=client) for _ in range(12)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    model = requests.get(f"{emulator}/_devstack/partitions", timeout=10).json()["model"]
    return answers, elapsed, model


def test_one_events_orders_saturate_at_one_partition_keys_rate(modelled_stack):
    _, organizer = seller(modelled_stack, "organizer")
    event_id = online_event(organizer, 5000)  # paid at the door: one transaction per order
    answers, elapsed, model = rush(modelled_stack, event_id)
    stats = model["stats"]
    for hot in model["hottest"][:8]:
        print(hot)

    accepted = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    rate = len(accepted) / elapsed
    ceiling = WCU / 2  # the event's pool and type items each take one order per 2 units
    print(f"{len(accepted)} orders in {elapsed:.1f} s = {rate:.1f}/s (ceiling {ceiling:.0f}/s, "
          f"a second's burst on top); {len(refused)} refused; model: {stats}")  # fmt: skip
    assert stats.get("TransactionCanceledException", 0) > 0  # the model did throttle
    # The hottest written key: the event's own, in the pools' or the types' table.
    hottest = next(hot for hot in model["hottest"] if hot["kind"] == "w")
    assert hottest["key"] == f"S:{event_id!r}"
    assert rate <= ceiling * (1 + 1 / LOAD_S) * 1.1  # one second of burst, 10 % slack
    assert rate >= ceiling * 0.5  # near it: the partition, not the machine, is the limit
    assert {a.status_code for a in refused} <= {503}
    for answer in refused:
        assert answer.json()["code"] == "storage_busy"
        assert int(answer.headers["Retry-After"]) >= 1
    # Every accepted order is one sold ticket, every refused one none.
    types = organizer("GET", f"/events/{event_id}/ticket-types").json()["ticket_types"]
    assert (types[0]["sold"], types[0]["held"]) == (len(accepted), 0)
    event = organizer("GET", f"/events/{event_id}").json()["event"]
    assert event["available"] == 5000 - len(accepted)


def test_a_sharded_events_orders_pass_one_partition_keys_rate(modelled_stack):
    """The same load on an event split into 8 stock shards: no key is over its rate (the
    shards, the index parts and the cached reads spread it), more orders get through than
    one key's ceiling allows, and the counts still equal the orders accepted."""
    _, organizer = seller(modelled_stack, "organizer")
    event_id = online_event(organizer, 5000, stock_shards=8)
    answers, elapsed, model = rush(modelled_stack, event_id)
    accepted = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    rate = len(accepted) / elapsed
    print(f"S=8: {len(accepted)} orders in {elapsed:.1f} s = {rate:.1f}/s; {len(refused)} "
          f"refused; model: {model['stats']}; hottest: {model['hottest'][:3]}")  # fmt: skip

    assert rate > WCU / 2 * 1.2  # past the unsharded ceiling (the machine may cap it here)
    hottest = next(hot for hot in model["hottest"] if hot["kind"] == "w")
    assert hottest["units"] <= WCU * (elapsed + 1) * 1.1  # no key written past its rate
    assert {a.status_code for a in refused} <= {503}
    event = organizer("GET", f"/events/{event_id}").json()["event"]
    assert (event["sold"], event["available"]) == (len(accepted), 5000 - len(accepted))
