"""Batch reads: any number of keys from several tables, in the order asked."""

from bench.meter import metered
from chalicelib.db import batch
from chalicelib.db.events import Event
from chalicelib.db.users import User
from tests.conftest import make_event, make_user


def test_keys_past_one_calls_limit_are_read_in_calls_of_100_in_order(tables):
    organizer = make_user("organizer")
    event_ids = [make_event(organizer=organizer) for _ in range(3)]
    keys = [(Event, f"missing-{i}", None) for i in range(227)]
    for position, event_id in zip((0, 99, 200), event_ids, strict=True):
        keys.insert(position, (Event, event_id, None))
    keys.insert(117, (User, organizer.id, None))  # another table in the same call

    with metered() as meter:
        found = batch.get_items(keys)

    assert meter.cost.operations == ["BatchGetItem"] * 3  # 231 keys: 100 + 100 + 31
    assert len(found) == 231
    assert found[117].id == organizer.id
    for key, item in zip(keys, found, strict=True):
        if key[1].startswith("missing-"):
            assert item is None
        else:
            assert item.id == key[1]
    assert batch.get_items([]) == []
