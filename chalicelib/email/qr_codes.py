"""Tickets' QR images for emails, drawn by segno (pure Python, no dependencies).

The mask is fixed instead of chosen by scoring all eight: the scoring is ~80% of segno's time
(~40 ms of ~50 ms per ticket here), and it matters for text with long runs of one value,
which a ticket's `qr` (base64url of ids and a signature) never has. The test suite reads the
images back with a real decoder.
"""

from __future__ import annotations

import io

MASK = 0
MODULE_PIXELS = 4


def qr_png(text: str) -> bytes:
    import segno  # imported on use: only confirmation emails draw QR codes

    image = io.BytesIO()
    # Error level M: readable with 15% of the image damaged (a scuffed print, a cracked screen).
    code = segno.make_qr(text, error="m", mask=MASK, boost_error=False)
    code.save(image, kind="png", scale=MODULE_PIXELS, border=4)
    return image.getvalue()
