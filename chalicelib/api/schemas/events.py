"""Bodies of the event, allocation and offer routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from chalicelib.api.schemas.common import Body, CurrencyCode, Id, Price, TicketCount, Time, Title

Payment = Annotated[
    Literal["offline", "online"],
    Field(
        description="offline (default): orders are confirmed at once and paid outside the API "
        "(at the door, to the reseller); online: an order holds its tickets for hold_minutes "
        "while the buyer pays by card."
    ),
]
HoldMinutes = Annotated[
    int, Field(ge=1, le=120, description="How long a reserved order holds its tickets.")
]
WaitingListHours = Annotated[
    int,
    Field(
        ge=1,
        le=168,
        description="How long an offer to someone on the waiting list holds "
        "its tickets before they pass to the next.",
    ),
]


class QueueBody(Body):
    """An on-sale queue: from `opens_at` on, buyers' orders need an admission from it."""

    opens_at: Time = Field(description="When the sale opens: places taken before are shuffled.")
    admit_per_second: Annotated[
        int, Field(ge=1, le=100_000, description="Queue positions admitted per second.")
    ]


QUEUE = (
    "An on-sale queue for a hot sale: from `opens_at` on, buyers' orders need an admission "
    "(POST /events/{id}/queue, GET /queue/{queue_token}); sellers and admins need none. "
    "Cannot change once `opens_at` has passed, except to remove it (null)."
)

StockShards = Annotated[
    int,
    Field(
        ge=1,
        le=64,
        description="For a hot on-sale: split the event's stock into this many shards, each "
        "its own DynamoDB partition, so one event takes that many times the orders a second "
        "(one shard takes about 250 orders/s with headroom: 1,000 write units a second, 2 per "
        "item of a transaction, half left for bursts). 1 (default): unsplit. Counts shown are "
        "always the sums; near the end the shards collapse back so that every ticket sells.",
    ),
]

CANCELLABLE_UNTIL = (
    "Until when buyers may cancel their own tickets (DELETE /my-tickets/{id}); not after the "
    "event's time. Absent or null: buyers cannot cancel."
)


class CreateEventBody(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"title": "A music concert", "price": "50", "currency_code": "GBP",
                 "time": "2030-09-09T20:00:00Z", "number_of_tickets": 1000}
            ]
        }
    )  # fmt: skip

    title: Title
    time: Time
    price: Price
    currency_code: CurrencyCode
    number_of_tickets: TicketCount
    organizer_id: Id | None = None
    cancellable_until: Time | None = Field(default=None, description=CANCELLABLE_UNTIL)
    payment: Payment = "offline"
    hold_minutes: HoldMinutes = 15
    waiting_list_hours: WaitingListHours = 24
    queue: QueueBody | None = Field(default=None, description=QUEUE)
    stock_shards: StockShards = 1


class UpdateEventBody(Body):
    title: Title | None = None
    time: Time | None = None
    price: Price | None = None
    currency_code: CurrencyCode | None = None
    number_of_tickets: TicketCount | None = None
    cancellable_until: Time | None = Field(
        default=None, description=CANCELLABLE_UNTIL + " Null here ends buyers' cancellations."
    )
    payment: Payment | None = None
    hold_minutes: HoldMinutes | None = None
    waiting_list_hours: WaitingListHours | None = None
    queue: QueueBody | None = Field(default=None, description=QUEUE + " Null removes it.")
    stock_shards: StockShards | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateEventBody:
        given = {name for name, value in self.model_dump().items() if value is not None}
        if not given and not {"cancellable_until", "queue"} & self.model_fields_set:
            raise ValueError(
                "Give at least one of title, time, price, currency_code, number_of_tickets, "
                "cancellable_until, payment, hold_minutes, waiting_list_hours, queue, "
                "stock_shards."
            )
        return self

    def changes(self) -> dict:
        """The fields to change: those given (a null `cancellable_until` or `queue` clears it)."""
        changes = self.model_dump(exclude_none=True)
        for nullable in ("cancellable_until", "queue"):
            if nullable in self.model_fields_set:
                changes.setdefault(nullable, None)
        return changes


class AllocationBody(Body):
    number_of_tickets: Annotated[int, Field(ge=0, le=1_000_000)]
    ticket_type_id: Id | None = Field(
        default=None, description="Required when the event sells more than one ticket type."
    )


class OnSaleBody(Body):
    on_sale: bool
