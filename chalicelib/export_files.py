"""Export files: written to S3 and handed out through a presigned link.

API Gateway answers at most 10 MB and Lambda 6 MB, and neither streams a Chalice response, so
an export of any size is written to the function's disk page by page (flat memory), uploaded
(multipart past 8 MB), and fetched by the caller straight from S3. The bucket's objects expire
after a day (deployment template); the link after LINK_SECONDS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib import aws
from chalicelib.db.base import new_id, utcnow
from chalicelib.settings import get_settings

LINK_SECONDS = 900


@dataclass(frozen=True)
class Published:
    url: str
    expires_at: datetime


def publish(path: str, *, folder: str, filename: str, content_type: str) -> Published:
    """Upload the file at `path` under an unguessable key; a link that downloads it as
    `filename`."""
    bucket = get_settings().exports_bucket_name
    key = f"{folder}/{new_id()}/{filename}"
    s3 = aws.client("s3")
    s3.upload_file(path, bucket, key, ExtraArgs={"ContentType": content_type})
    url = s3.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": bucket,
            "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
        },
        ExpiresIn=LINK_SECONDS,
    )
    return Published(url=url, expires_at=utcnow() + timedelta(seconds=LINK_SECONDS))


def create_bucket() -> None:
    """The local emulator's bucket (deployed, the template makes it); safe to run again."""
    s3 = aws.client("s3")
    bucket = get_settings().exports_bucket_name
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
