"""Tickets' QR codes, drawn by segno (pure Python, no dependencies): PNG images for emails,
inline SVG for the buyers' page.

The mask is fixed instead of chosen by scoring all eight: the scoring is ~80% of segno's time
(~40 ms of ~50 ms per ticket here), and it matters for text with long runs of one value,
which a ticket's `qr` (base64url of ids and a signature) never has. The test suite reads the
images back with a real decoder.
"""

from __future__ import annotations

import io
from typing import Any

MASK = 0
MODULE_PIXELS = 4


def _code(text: str) -> Any:
    import segno  # imported on use: only ticket emails and pages draw QR codes

    # Error level M: readable with 15% of the image damaged (a scuffed print, a cracked screen).
    return segno.make_qr(text, error="m", mask=MASK, boost_error=False)


def qr_png(text: str) -> bytes:
    image = io.BytesIO()
    _code(text).save(image, kind="png", scale=MODULE_PIXELS, border=4)
    return image.getvalue()


def qr_svg(text: str) -> str:
    """An <svg> element to place in a page (no XML declaration, no external reference)."""
    return _code(text).svg_inline(scale=MODULE_PIXELS, border=4)
