"""The body Stripe posts to the webhook (verified by signature; only these fields are read)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from chalicelib.api.schemas.common import Body


class StripeEventBody(Body):
    """A Stripe event: `id`, `type` and `data.object` are read once its signature holds."""

    model_config = ConfigDict(extra="allow")

    id: str
    type: str
    data: dict[str, Any]
