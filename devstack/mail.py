"""The newest link the local stack emailed to an address: `make link EMAIL=me@example.com`
(or `python -m devstack.mail me@example.com [activate|reset-password|my-tickets]`).

Reads the emulator's mailbox (`$EMU/_devstack/sent-emails`, EMU defaulting to the stack's
AWS_ENDPOINT_URL, else http://127.0.0.1:4566) and prints the link alone, so a walk-through can
write `LINK=$(make -s link EMAIL=...)`. Links asked for by address go out from the event
stream within a second, so it waits up to 10 s for one to arrive.
"""

from __future__ import annotations

import os
import re
import sys
import time

import requests

KINDS = ("activate", "reset-password", "my-tickets", "waiting-list", "orders")
WAIT_S = 10.0


def mailbox_url() -> str:
    emulator = (
        os.environ.get("EMU") or os.environ.get("AWS_ENDPOINT_URL") or "http://127.0.0.1:4566"
    )
    return f"{emulator.rstrip('/')}/_devstack/sent-emails"


def newest_link(email: str, kinds: tuple[str, ...] = KINDS) -> str | None:
    # A waiting-list link and an offer's checkout link carry their token after the id.
    pattern = re.compile(
        rf"https?://[^\s\"'<>]+/(?:{'|'.join(kinds)})/[A-Za-z0-9_-]+(?:/pay)?"
        r"(?:\?token=[A-Za-z0-9_.-]+)?"
    )
    try:
        emails = requests.get(mailbox_url(), timeout=5).json()["emails"]
    except requests.RequestException as exc:
        raise SystemExit(f"cannot reach the emulator's mailbox at {mailbox_url()}: {exc}") from None
    wanted = email.strip().lower()
    links = [
        found
        for message in emails
        if wanted in [to.lower() for to in message["to"]]
        for found in pattern.findall(message.get("body") or "")
    ]
    return links[-1] if links else None


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    kinds = tuple(argv[1:]) or KINDS
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        print(f"unknown kind {unknown[0]!r}; one of {', '.join(KINDS)}", file=sys.stderr)
        return 2
    deadline = time.monotonic() + WAIT_S
    while (link := newest_link(argv[0], kinds)) is None:
        if time.monotonic() > deadline:
            print(f"no link emailed to {argv[0]} in {WAIT_S:.0f} s", file=sys.stderr)
            return 1
        time.sleep(0.2)
    print(link)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
