"""Uniqueness claims: one item per value that must be unique across a table.

DynamoDB enforces uniqueness only on primary keys, so a unique value (a user's email, a
buyer's email, a provider identity) is claimed by putting `kind:value` here with
`attribute_not_exists(key)`, in the same transaction that writes the owning item.
"""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.db.base import TableModel, table_meta, utcnow

USER_EMAIL = "user-email"
BUYER_EMAIL = "buyer-email"


def unique_key(kind: str, value: str) -> str:
    return f"{kind}:{value}"


class UniqueClaim(TableModel):
    Meta = table_meta("uniques")

    key = UnicodeAttribute(hash_key=True)
    owner_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(default=utcnow)
