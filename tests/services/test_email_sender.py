import dataclasses

import boto3

from chalicelib.email import sender
from chalicelib.email.sender import EmailMessage, send_email


def test_email_goes_through_ses_and_is_echoed_locally_with_its_links(tables, capsys, monkeypatch):
    local = dataclasses.replace(sender.get_settings(), is_local=True)
    monkeypatch.setattr(sender, "get_settings", lambda: local)
    message = EmailMessage(
        to="buyer@example.com",
        subject="Verify your account",
        text="Open http://api.test/activate/abc to verify.",
    )

    message_id = send_email(message)

    assert message_id
    quota = boto3.client("ses").get_send_quota()
    assert quota["SentLast24Hours"] == 1
    printed = capsys.readouterr().out
    assert "to=buyer@example.com" in printed
    assert "http://api.test/activate/abc" in printed


def test_emails_are_not_echoed_outside_local_mode(tables, capsys, monkeypatch):
    deployed = dataclasses.replace(sender.get_settings(), is_local=False)
    monkeypatch.setattr(sender, "get_settings", lambda: deployed)

    send_email(EmailMessage(to="a@example.com", subject="s", text="http://x/secret"))

    assert "secret" not in capsys.readouterr().out


def test_the_local_mailbox_shows_each_part_where_a_mail_client_would(tables):
    from chalicelib.email.messages import verification_email
    from chalicelib.email.sender import InlineImage
    from tests.conftest import sent_emails

    send_email(verification_email(to="v@example.com", name="Vi", link="http://api.test/a/b"))
    send_email(EmailMessage(to="q@example.com", subject="QR", text="see it", html="<p>x</p>",
                            images=[InlineImage("qr", b"\x89PNG", "qr.png")]))  # fmt: skip

    plain, raw = sent_emails(drain=False)
    # SendEmail kept only the HTML part: it is under `html`, its words under `body`.
    assert plain.html.startswith("<!doctype html>")
    assert "<p>" not in plain.body and "http://api.test/a/b" in plain.body
    # A raw message's recipient once, not once per header and envelope.
    assert raw.to == ["q@example.com"]
