"""Signed tickets: every ticket's `qr` verifies offline with only GET /ticket-keys, and nothing
else does (a changed byte, another key, an unknown key id); a key rotation keeps old tickets
valid while new ones carry the new kid."""

from __future__ import annotations

import base64
import json

import pytest

from chalicelib.auth import offline, ticket_keys
from chalicelib.settings import get_settings
from tests.conftest import buyer_body, make_event


def book(api, quantity=1):
    answer = api.post(
        "/sold-tickets", {"event_id": make_event(), "quantity": quantity, "buyer": buyer_body()}
    )
    assert answer.status_code == 201, answer.json_body
    return answer.json_body["tickets"]


def published(api):
    answer = api.get("/ticket-keys")
    assert answer.status_code == 200
    return answer.json_body


def part(qr: str, index: int) -> dict:
    segment = qr.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


@pytest.fixture
def rotated(monkeypatch):
    """Swap TICKET_KEYS for a test, reloading the settings and the key ring both ways."""

    def use(raw: str) -> None:
        monkeypatch.setenv("TICKET_KEYS", raw)
        get_settings.cache_clear()
        monkeypatch.setattr(ticket_keys, "_ring", None)

    yield use
    monkeypatch.undo()
    get_settings.cache_clear()
    ticket_keys._ring = None


def test_ticket_keys_are_public_ed25519_jwks_without_private_parts(api):
    keys = published(api)["keys"]

    assert keys
    for key in keys:
        assert {key["kty"], key["crv"], key["alg"]} == {"OKP", "Ed25519", "EdDSA"}
        assert key["kid"] and key["x"]
        assert "d" not in key


def test_every_booked_ticket_verifies_offline_with_only_the_published_keys(api):
    key_set = published(api)
    tickets = book(api, quantity=3)

    for ticket in tickets:
        verified = offline.verify_ticket(ticket["qr"], key_set)
        assert (verified.ticket_id, verified.event_id, verified.code) == (
            ticket["id"], ticket["event_id"], ticket["code"],
        )  # fmt: skip
        assert part(ticket["qr"], 0)["alg"] == "EdDSA"
        assert set(part(ticket["qr"], 1)) == {"tid", "eid", "code", "iat"}


def test_the_qr_is_the_same_wherever_the_ticket_is_read(api):
    from tests.conftest import admin_user

    ticket = book(api)[0]

    again = api.get(f"/sold-tickets/{ticket['id']}", as_=admin_user()).json_body["ticket"]
    assert again["qr"] == ticket["qr"]


@pytest.mark.parametrize("position", [0, 1, 2])
def test_a_qr_with_one_byte_changed_does_not_verify(api, position):
    key_set = published(api)
    qr = book(api)[0]["qr"]
    segments = qr.split(".")
    middle = len(segments[position]) // 2
    swapped = "A" if segments[position][middle] != "A" else "B"
    segments[position] = segments[position][:middle] + swapped + segments[position][middle + 1 :]

    with pytest.raises(offline.InvalidTicket):
        offline.verify_ticket(".".join(segments), key_set)


def test_a_ticket_signed_by_another_key_does_not_verify(api, rotated):
    key_set = published(api)
    stranger = json.loads(ticket_keys.local_key_set())["keys"][0]
    # Same kid as the published key, another private key: only the signature can tell.
    rotated(json.dumps({"keys": [{**stranger, "kid": key_set["keys"][0]["kid"]}]}))
    forged = book(api)[0]["qr"]

    with pytest.raises(offline.InvalidTicket):
        offline.verify_ticket(forged, key_set)


def test_unknown_key_ids_and_other_algorithms_are_refused(api):
    key_set = published(api)
    qr = book(api)[0]["qr"]

    with pytest.raises(offline.InvalidTicket, match="unknown key"):
        offline.verify_ticket(qr, {"keys": []})
    for junk in ("", "not-a-jws", "a.b.c", qr.split(".")[0] + ".."):
        with pytest.raises(offline.InvalidTicket):
            offline.verify_ticket(junk, key_set)


def test_after_a_rotation_old_tickets_still_verify_and_new_ones_use_the_new_key(api, rotated):
    old_raw = get_settings().ticket_keys
    old_ticket = book(api)[0]
    old_kid = part(old_ticket["qr"], 0)["kid"]
    new_key = ticket_keys.new_private_jwk("2027-01")
    rotated(json.dumps({"keys": [new_key, *json.loads(old_raw)["keys"]]}))

    key_set = published(api)
    new_ticket = book(api)[0]

    assert [k["kid"] for k in key_set["keys"]] == ["2027-01", old_kid]
    assert part(new_ticket["qr"], 0)["kid"] == "2027-01"
    assert offline.verify_ticket(old_ticket["qr"], key_set).kid == old_kid
    assert offline.verify_ticket(new_ticket["qr"], key_set).kid == "2027-01"


def test_the_offline_command_checks_a_ticket(api, tmp_path, capsys):
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(published(api)))
    ticket = book(api)[0]

    assert offline.main([str(keys), ticket["qr"]]) == 0
    assert json.loads(capsys.readouterr().out)["ticket_id"] == ticket["id"]
    assert offline.main([str(keys), ticket["qr"][:-2] + "xx"]) == 1
