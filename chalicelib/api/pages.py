"""Small HTML pages for people who click links in emails."""

from __future__ import annotations

from html import escape

from chalice import Response

_TEMPLATE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto}}</style>
</head>
<body><h1>{title}</h1><p>{message}</p></body>
</html>
"""


def html_page(*, title: str, message: str, status: int = 200) -> Response:
    body = _TEMPLATE.format(title=escape(title), message=escape(message))
    return Response(
        body=body,
        status_code=status,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "Referrer-Policy": "no-referrer",
        },
    )
