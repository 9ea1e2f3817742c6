"""Small HTML pages for people who click links in emails."""

from __future__ import annotations

from html import escape

from chalice import Response

from chalicelib.errors import AppError

HTML = "text/html"
LINK_NOT_VALID = "This link is not valid. Check that you copied all of it."

_TEMPLATE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto}}
label,input,button{{display:block;margin:.5rem 0}}</style>
</head>
<body><h1>{title}</h1><p>{message}</p>{extra}</body>
</html>
"""

_RESET_FORM = """<form method="post" action="{action}">
<input type="hidden" name="token" value="{token}">
<label for="password">New password (at least 8 characters)</label>
<input id="password" name="password" type="password" minlength="8" maxlength="1024"
 autocomplete="new-password" required>
<button type="submit">Set my password</button>
</form>"""


_ACCESS_FORM = """<form method="post" action="{action}">
<input type="hidden" name="token" value="{token}">
<button type="submit">Show my tickets</button>
</form>"""

_TICKET = """<section><h2>{title}</h2><p>{when} &middot; <b>{code}</b> &middot; {status}</p>
{qr}</section>"""


def html_page(*, title: str, message: str, status: int = 200, extra: str = "") -> Response:
    """A page; `extra` is markup built here from escaped values, never caller text."""
    body = _TEMPLATE.format(title=escape(title), message=escape(message), extra=extra)
    return Response(
        body=body,
        status_code=status,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            # Forms post only to this API; no script runs on these pages.
            "Content-Security-Policy": (
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
            ),
            # The page's URL carries a secret token: never send it on to another site.
            "Referrer-Policy": "no-referrer",
        },
    )


def reset_form_page(*, token: str, action: str) -> Response:
    form = _RESET_FORM.format(action=escape(action), token=escape(token))
    return html_page(
        title="Choose a new password",
        message="Type your new password. The link works once.",
        extra=form,
    )


def access_page(*, token: str, action: str) -> Response:
    """Opening an emailed link shows a button: mail scanners that fetch links use nothing up."""
    form = _ACCESS_FORM.format(action=escape(action), token=escape(token))
    return html_page(
        title="Your tickets",
        message="The link works once: the button opens your tickets for the next hour.",
        extra=form,
    )


def tickets_page(tickets: list[tuple[str, str, str, str, str]]) -> Response:
    """(event title, when, code, status, QR as inline <svg> we drew) per ticket."""
    sections = "".join(
        _TICKET.format(
            title=escape(title), when=escape(when), code=escape(code), status=escape(status),
            qr=qr_svg,
        )
        for title, when, code, status, qr_svg in tickets
    )  # fmt: skip
    return html_page(
        title="Your tickets",
        message="Show a ticket's QR code at the entrance; each ticket gets in once."
        if tickets
        else "You hold no tickets.",
        extra=sections,
    )


def error_page(*, title: str, error: AppError) -> Response:
    """A refused form post, answered as a page: what was wrong, with the error's status."""
    problem = " ".join((error.details or {}).values()) or error.message
    page = html_page(title=title, message=problem, status=error.status)
    page.headers.update(error.headers())
    return page
