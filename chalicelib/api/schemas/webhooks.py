"""Bodies of the webhook routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.api.schemas.common import Body

WebhookType = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class CreateWebhookBody(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"url": "https://hooks.example.com/tickets",
                          "events": ["ticket.sold", "ticket.cancelled"]}]
        }
    )  # fmt: skip

    # Printable ASCII, no spaces: an internationalised host goes in its xn-- form.
    url: Annotated[str, StringConstraints(min_length=8, max_length=2048, pattern=r"^[!-~]+$")] = (
        Field(description="https:// only, and never a private, loopback or link-local address.")
    )
    events: list[WebhookType] = Field(min_length=1, max_length=16)
