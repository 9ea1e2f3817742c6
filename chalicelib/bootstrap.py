"""The setup step: tables, the local SES sender identity, the first admin. Idempotent.

Run it as `python -m chalicelib.bootstrap`; the local stack and the tests call `bootstrap()`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from chalicelib import aws
from chalicelib.db.tables import create_tables
from chalicelib.services.users import ensure_admin
from chalicelib.settings import Settings, SettingsError, get_settings


@dataclass(frozen=True)
class BootstrapReport:
    tables_created: list[str]
    admin_created: bool


def bootstrap(settings: Settings) -> BootstrapReport:
    tables_created = create_tables()
    if settings.is_local:
        # Real SES needs the sender verified out of band (DNS); the emulator only needs asking.
        aws.client("ses").verify_email_identity(EmailAddress=settings.ses_sender)
    if not (settings.admin_email and settings.admin_password):
        raise SettingsError("ADMIN_EMAIL and ADMIN_PASSWORD must be set to create the first admin.")
    admin_created = ensure_admin(email=settings.admin_email, password=settings.admin_password)
    return BootstrapReport(tables_created=tables_created, admin_created=admin_created)


def main() -> int:
    try:
        settings = get_settings()
        report = bootstrap(settings)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"tables created: {', '.join(report.tables_created) or 'none (all existed)'}")
    admin_state = "created" if report.admin_created else "already exists"
    print(f"admin {settings.admin_email}: {admin_state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
