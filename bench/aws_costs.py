"""What the measured work costs on AWS, from list prices kept in bench/prices.json.

A request's Lambda duration is estimated, not measured on AWS: the CPU time measured here
scaled to the share of a vCPU the API function gets at its memory size, plus a typical
latency per DynamoDB call and per SES send (bench/prices.json says which). Capacity units come
from the DynamoDB meter (bench/meter.py), so they follow DynamoDB's own rounding.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

PRICES = json.loads((Path(__file__).with_name("prices.json")).read_text())


def lambda_ms(cpu_ms: float, dynamodb_calls: int, emails: int) -> float:
    a = PRICES["assumptions"]
    return (
        cpu_ms / a["vcpu_share_at_api_memory"]
        + dynamodb_calls * a["dynamodb_call_latency_ms"]
        + emails * a["ses_send_latency_ms"]
    )


def per_million(
    cost: dict[str, Any],
    cpu_ms: float,
    emails: int,
    *,
    through_gateway: bool = True,
    queued: int = 0,
) -> dict[str, float]:
    """Dollars per million requests of one operation, by service. The stream consumer's and the
    side-effects worker's work (`through_gateway=False`) is charged one Lambda request each: an
    upper bound, since a batch of up to 25 records (10 messages) is one invocation. Each of the
    `queued` messages is charged three SQS requests (send, receive, delete), also an upper
    bound: all three are batched."""
    a = PRICES["assumptions"]
    duration_s = lambda_ms(cpu_ms, cost["calls"], emails) / 1000
    gb_seconds = duration_s * a["api_memory_mb"] / 1024
    dollars = {
        "api_gateway": PRICES["api_gateway_rest_per_million_requests"] if through_gateway else 0,
        "lambda": PRICES["lambda_per_million_requests"]
        + gb_seconds * 1_000_000 * PRICES["lambda_arm64_per_gb_second"],
        "dynamodb": cost["read_units"] * PRICES["dynamodb_on_demand_per_million_read_units"]
        + cost["write_units"] * PRICES["dynamodb_on_demand_per_million_write_units"],
        "ses": emails * 1000 * PRICES["ses_per_thousand_emails"],
        "sqs": queued * 3 * PRICES["sqs_standard_per_million_requests"],
    }
    dollars["total"] = sum(dollars.values())
    dollars["lambda_ms_estimated"] = duration_s * 1000
    return dollars


def combined(*parts: dict[str, float]) -> dict[str, float]:
    return {key: sum(part[key] for part in parts) for key in parts[0]}


def max_bookings_per_second(pool_write_units: float, resellers: int) -> dict[str, float]:
    """One event's ceiling set by DynamoDB's per-partition write limit. Every booking writes
    its seller's pool item in a transaction. All pools of an event share the partition key
    (event_id), so the guaranteed ceiling is one partition's; DynamoDB may split a hot item
    collection by sort key ("split for heat"), which would give each pool its own."""
    limit = PRICES["assumptions"]["partition_write_units_per_second"]
    one_pool = limit / pool_write_units
    return {
        "organizer alone": one_pool,
        f"{resellers} resellers, one partition (guaranteed)": one_pool,
        f"{resellers} resellers + organizer, pools split for heat": one_pool * (resellers + 1),
    }


def pool_write_units(pool_item_bytes: int = 220) -> float:
    """Write units one booking spends on its pool item: a transactional write, 2 per KB."""
    return 2 * math.ceil(pool_item_bytes / 1024)
