"""The setup step: tables, the local SES sender identity, the first admin. Idempotent.

    python -m chalicelib.bootstrap                 # create what is missing
    python -m chalicelib.bootstrap unblock EMAIL   # operators' break-glass: unblock any account

The local stack and the tests call `bootstrap()`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from chalicelib import aws
from chalicelib.db.tables import create_tables
from chalicelib.services.users import ensure_admin, operator_unblock
from chalicelib.settings import Settings, SettingsError, get_settings


@dataclass(frozen=True)
class BootstrapReport:
    tables_created: list[str]
    admin_created: bool


def verify_sender(settings: Settings) -> None:
    """Real SES needs the sender verified out of band (DNS); an emulator only needs asking."""
    aws.client("ses").verify_email_identity(EmailAddress=settings.ses_sender)


def bootstrap(settings: Settings) -> BootstrapReport:
    tables_created = create_tables()
    if settings.is_local:
        verify_sender(settings)
    if not (settings.admin_email and settings.admin_password):
        raise SettingsError("ADMIN_EMAIL and ADMIN_PASSWORD must be set to create the first admin.")
    admin_created = ensure_admin(email=settings.admin_email, password=settings.admin_password)
    return BootstrapReport(tables_created=tables_created, admin_created=admin_created)


def _setup(settings: Settings) -> int:
    report = bootstrap(settings)
    print(f"tables created: {', '.join(report.tables_created) or 'none (all existed)'}")
    admin_state = "created" if report.admin_created else "already exists"
    print(f"admin {settings.admin_email}: {admin_state}")
    return 0


def _unblock(email: str) -> int:
    outcome = operator_unblock(email=email)
    if outcome is None:
        print(f"error: no account uses {email}", file=sys.stderr)
        return 1
    print(f"{email}: {'unblocked' if outcome else 'was not blocked; failure count cleared'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.bootstrap", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    unblock = commands.add_parser(
        "unblock", help="unblock an account (any role, the only admin included)"
    )
    unblock.add_argument("email")
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
        if args.command == "unblock":
            return _unblock(args.email)
        return _setup(settings)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
