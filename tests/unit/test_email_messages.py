"""Emails never let caller text add lines, markup or links."""

from datetime import UTC, datetime

from chalicelib.email.messages import (
    account_blocked_email,
    booking_confirmation,
    inline,
    password_reset_email,
    verification_email,
)

HOSTILE = 'Bob</p><a href="http://evil.example">refund</a>\n\nLog in at www.evil.example now'


def test_inline_text_is_one_line_without_links():
    text = inline(HOSTILE)

    assert "\n" not in text
    assert "evil.example" not in text
    assert "http://" not in text
    assert len(text) <= 80


def test_inline_keeps_ordinary_names_readable():
    assert inline("  Zoë   O'Brien ") == "Zoë O'Brien"
    assert inline("Dr. Who") == "Dr. Who"  # a dot before a space links nothing


def test_the_verification_email_quotes_the_name_on_one_line_and_escaped():
    link = "http://api.test/activate/abc"
    message = verification_email(to="a@example.com", name=HOSTILE, link=link)

    greeting = message.text.split("\n")[0]
    assert greeting.startswith("Hello Bob")
    assert message.links == [link]  # the only link is ours
    assert "<a href" not in message.html.replace(f'<a href="{link}">', "")
    assert "&lt;/p&gt;" in message.html


def test_the_booking_confirmation_escapes_the_holder_and_the_title():
    message = booking_confirmation(
        to="a@example.com",
        name=HOSTILE,
        event_title="Show\r\nBcc: x@example.com <script>",
        event_time=datetime(2030, 1, 1, 20, tzinfo=UTC),
        tickets=[("ABCD-EFGH-JKLM", "eyJ.payload.sig")],
        lines=[("General admission", 1, "50")],
        currency_code="GBP",
    )

    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.links == []
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html
    assert "ABCD-EFGH-JKLM" in message.text and "ABCD-EFGH-JKLM" in message.html


def test_reset_and_blocked_emails_carry_only_our_links():
    reset = password_reset_email(to="a@example.com", name=HOSTILE, link="http://api.test/r/x")
    blocked = account_blocked_email(to="a@example.com", reason="failed_logins")

    assert reset.links == ["http://api.test/r/x"]
    assert "one hour" in reset.text
    assert blocked.links == []
    assert "administrator" in blocked.text


def test_the_booking_confirmation_is_multipart_with_each_qr_shown_inline():
    import email
    import email.policy

    from chalicelib.email.sender import mime_bytes

    message = booking_confirmation(
        to="a@example.com",
        name="Bea",
        event_title="Show",
        event_time=datetime(2030, 1, 1, 20, tzinfo=UTC),
        tickets=[("ABCD-EFGH-JKLM", "qr-one"), ("NPQR-STUV-WXYZ", "qr-two")],
        lines=[("General admission", 1, "50"), ("VIP <b>", 1, "120")],
        currency_code="GBP",
    )

    parsed = email.message_from_bytes(
        mime_bytes(message, sender="tickets@example.com"), policy=email.policy.default
    )
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",)).get_content()
    assert "ABCD-EFGH-JKLM" in text
    assert "1 x General admission at 50 GBP; 1 x VIP <b> at 120 GBP" in text
    html = parsed.get_body(("html",))
    images = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 2
    for image in images:
        assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html.get_content()
        assert image.get_content().startswith(b"\x89PNG")
