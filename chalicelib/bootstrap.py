"""The setup step: tables and the side-effects queue (locally), the local SES sender identity,
the first admin. Idempotent.

    python -m chalicelib.bootstrap                 # create what is missing
    python -m chalicelib.bootstrap unblock EMAIL   # operators' break-glass: unblock any account

Locally it creates the tables; against a deployment it only checks that the stack made them
(a table created here would live outside CloudFormation) and seeds the first admin, whose
password comes from ADMIN_PASSWORD, ADMIN_PASSWORD_PARAMETER (SSM) or a prompt. Then it brings
stored data up to the current model (chalicelib/services/operations/migrations.py).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from chalicelib import aws, export_files
from chalicelib.db.tables import create_tables, unavailable_tables
from chalicelib.services.accounts.users import ensure_admin, operator_unblock
from chalicelib.services.operations import migrations
from chalicelib.settings import Settings, SettingsError, get_settings

MIN_PASSWORD = 12


@dataclass(frozen=True)
class BootstrapReport:
    tables_created: list[str]
    admin_created: bool
    events_migrated: int = 0
    index_keys_added: int = 0


def verify_sender(settings: Settings) -> None:
    """Real SES needs the sender verified out of band (DNS); an emulator only needs asking."""
    aws.client("ses").verify_email_identity(EmailAddress=settings.ses_sender)


def create_queues(settings: Settings) -> None:
    """The side-effects queue (services/stream/side_effects.py) and where messages that keep failing
    are parked, as the deployment template declares them; safe to run again."""
    sqs = aws.client("sqs")
    parked = sqs.create_queue(QueueName=settings.queue_name("side-effects-failed"))["QueueUrl"]
    parked_arn = sqs.get_queue_attributes(QueueUrl=parked, AttributeNames=["QueueArn"])
    redrive = {"deadLetterTargetArn": parked_arn["Attributes"]["QueueArn"], "maxReceiveCount": 5}
    sqs.create_queue(
        QueueName=settings.queue_name("side-effects"),
        Attributes={"VisibilityTimeout": "60", "RedrivePolicy": json.dumps(redrive)},
    )


def bootstrap(
    settings: Settings, *, create_missing_tables: bool | None = None, admin_password: str = ""
) -> BootstrapReport:
    """`create_missing_tables` defaults to local mode only."""
    if settings.is_local if create_missing_tables is None else create_missing_tables:
        tables_created = create_tables()
        create_queues(settings)
        export_files.create_bucket()
    else:
        missing = unavailable_tables()
        if missing:
            raise SettingsError(
                f"These tables do not exist or are not active: {', '.join(missing)}. Deploy the "
                "stack first (make deploy), with the same stage and TABLE_PREFIX."
            )
        tables_created = []
    if settings.is_local:
        verify_sender(settings)
    password = admin_password or settings.admin_password
    if not (settings.admin_email and password):
        raise SettingsError("ADMIN_EMAIL and ADMIN_PASSWORD must be set to create the first admin.")
    admin_created = ensure_admin(email=settings.admin_email, password=password)
    return BootstrapReport(
        tables_created=tables_created,
        admin_created=admin_created,
        events_migrated=migrations.add_ticket_types(),
        index_keys_added=migrations.add_index_parts(),
    )


def _setup(settings: Settings) -> int:
    password = ""
    if settings.admin_email and not settings.admin_password and sys.stdin.isatty():
        password = getpass.getpass(f"Password for the first admin {settings.admin_email}: ")
        if len(password) < MIN_PASSWORD:
            print(f"error: at least {MIN_PASSWORD} characters, please", file=sys.stderr)
            return 2
    report = bootstrap(settings, admin_password=password)
    print(f"tables created: {', '.join(report.tables_created) or 'none (all existed)'}")
    admin_state = "created" if report.admin_created else "already exists"
    print(f"admin {settings.admin_email}: {admin_state}")
    if report.events_migrated:
        print(f"events given their General admission ticket type: {report.events_migrated}")
    if report.index_keys_added:
        print(f"orders and tickets given their index keys: {report.index_keys_added}")
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
    except (PynamoDBException, BotoCoreError, ClientError) as exc:
        # The usual cause is the wrong stack: another port, another prefix, no credentials.
        print(f"error: {_unreachable(settings, exc)}", file=sys.stderr)
        return 3


def _unreachable(settings: Settings, exc: Exception) -> str:
    where = settings.aws_endpoint_url or f"AWS ({settings.aws_region})"
    cause = getattr(exc, "cause", None) or exc
    if "ResourceNotFound" in str(cause) or "ResourceNotFound" in type(cause).__name__:
        return (
            f"no tables named {settings.table_prefix}* at {where}; is TABLE_PREFIX right, and "
            "has the setup step run there?"
        )
    return f"cannot reach the tables at {where} ({cause}); is the stack running there?"


if __name__ == "__main__":
    sys.exit(main())
