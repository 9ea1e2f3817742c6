"""Changes: one item per change the API records, written in the same TransactWriteItems as the
change itself, so the record and the change commit together or not at all.

An audited change (an admin blocking someone, an event deleted, a check-in...) is an entry of
the audit log: it carries the sparse `audit_*` keys that put it in the log's indexes, and it
never expires. Every change is also what the event stream announces (its table's stream feeds
the email and webhook consumers); a change that is only announced (a ticket sold) expires
after `ANNOUNCED_FOR`, once its consumers are long done.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pynamodb.attributes import (
    JSONAttribute,
    MapAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.constants import STREAM_NEW_IMAGE
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.db.base import TableModel, table_meta, utcnow

# Every audit entry carries this constant, so that one index lists the whole log newest first
# (audited changes are admin actions and door scans: far below one partition's write limit).
AUDIT_LOG = "audit"
ANNOUNCED_FOR = timedelta(days=7)


class AuditLog(GlobalSecondaryIndex["Change"]):
    class Meta:
        index_name = "audit-index"
        projection = AllProjection()

    audit_log = UnicodeAttribute(hash_key=True)
    at = UTCDateTimeAttribute(range_key=True)


class AuditByActor(GlobalSecondaryIndex["Change"]):
    class Meta:
        index_name = "actor-index"
        projection = AllProjection()

    audit_actor_id = UnicodeAttribute(hash_key=True)
    at = UTCDateTimeAttribute(range_key=True)


class AuditByTarget(GlobalSecondaryIndex["Change"]):
    class Meta:
        index_name = "target-index"
        projection = AllProjection()

    audit_target_id = UnicodeAttribute(hash_key=True)
    at = UTCDateTimeAttribute(range_key=True)


class AuditByAction(GlobalSecondaryIndex["Change"]):
    class Meta:
        index_name = "action-index"
        projection = AllProjection()

    audit_action = UnicodeAttribute(hash_key=True)
    at = UTCDateTimeAttribute(range_key=True)


class AuditByEvent(GlobalSecondaryIndex["Change"]):
    class Meta:
        index_name = "event-index"
        projection = AllProjection()

    audit_event_id = UnicodeAttribute(hash_key=True)
    at = UTCDateTimeAttribute(range_key=True)


class Change(TableModel):
    Meta = table_meta("changes")
    # The event stream's source (the deployment template declares the same view).
    Meta.stream_view_type = STREAM_NEW_IMAGE

    id = UnicodeAttribute(hash_key=True)
    # What happened, named as webhooks name it: "ticket.sold", "user.blocked", ...
    type = UnicodeAttribute()
    at = UTCDateTimeAttribute(default=utcnow)
    actor_id = UnicodeAttribute(null=True)  # None: the system (e.g. the lockout rule)
    actor_role = UnicodeAttribute(null=True)
    target_type = UnicodeAttribute()
    target_id = UnicodeAttribute()
    # The event it concerns, if any: its organizer's own log, and whom webhooks tell.
    event_id = UnicodeAttribute(null=True)
    # Short values for the audit log: text, whole numbers, booleans (older entries: text only).
    details = MapAttribute(null=True, default=dict)
    data = JSONAttribute(null=True)  # what the stream's consumers need (emails, webhooks)
    # Set on audit entries only (sparse indexes); announced-only changes expire instead.
    audit_log = UnicodeAttribute(null=True)
    audit_actor_id = UnicodeAttribute(null=True)
    audit_target_id = UnicodeAttribute(null=True)
    audit_action = UnicodeAttribute(null=True)
    audit_event_id = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)

    audit_log_index = AuditLog()
    by_actor = AuditByActor()
    by_target = AuditByTarget()
    by_action = AuditByAction()
    by_event = AuditByEvent()

    @property
    def audited(self) -> bool:
        return self.audit_log is not None

    @property
    def detail_values(self) -> dict[str, str | int | bool | None]:
        values = self.details.as_dict() if self.details is not None else {}
        # DynamoDB numbers come back as Decimal or float; whole ones are ints in JSON.
        return {k: int(v) if isinstance(v, float | Decimal) and v == int(v) else v
                for k, v in values.items()}  # fmt: skip
