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
