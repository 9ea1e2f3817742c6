"""Response bodies. Views build these, so what the OpenAPI document promises is what is sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["admin", "organizer", "reseller"]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on first use, as Body

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class ErrorOut(Out):
    error: str = Field(description="A sentence for people.", examples=["Event sold out."])
    code: str = Field(description="A stable snake_case code for programs.", examples=["sold_out"])
    details: dict[str, str] | None = Field(
        default=None, description="Field (or parameter) -> what is wrong with it."
    )


class HealthOut(Out):
    status: Literal["ok"]


class MessageOut(Out):
    message: str


class RegisteredOut(Out):
    message: str
    user_id: str


class TokenOut(Out):
    auth_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds until the token expires.")


class DeviceStartOut(Out):
    device_code: str
    user_code: str
    verification_url: str
    expires_in: int
    interval: int


class UserOut(Out):
    id: str
    email: str
    name: str | None
    role: Role | None = Field(description="None until a social-login user chooses one.")
    provider: Literal["email", "google", "github"]
    verified: bool
    blocked: bool
    created_at: datetime


class UserEnvelope(Out):
    user: UserOut


class UserPage(Out):
    users: list[UserOut]
    next_token: str | None


class QueueOut(Out):
    opens_at: datetime
    admit_per_second: int


class EventOut(Out):
    id: str
    title: str
    time: datetime
    price: str = Field(examples=["50.00"], description="The lowest price of a type on sale.")
    currency_code: str = Field(examples=["GBP"])
    number_of_tickets: int = Field(description="The capacity all its ticket types share.")
    organizer_id: str
    cancellable_until: datetime | None = Field(
        description="Until when buyers may cancel their own tickets; null: they cannot."
    )
    created_at: datetime
    updated_at: datetime
    payment: Literal["offline", "online"] = Field(
        description="offline: orders are confirmed at once and paid outside the API; online: "
        "an order holds its tickets for `hold_minutes` while the buyer pays."
    )
    hold_minutes: int
    waiting_list_hours: int = Field(
        description="How long an offer to someone on the waiting list holds its tickets."
    )
    queue: QueueOut | None = Field(
        description="The on-sale queue: from `opens_at` on, buyers' orders need an admission."
    )
    stock_shards: int = Field(
        description="How many shards the event's stock is split into for a hot on-sale "
        "(1: unsplit)."
    )
    stock_lane_open: bool = Field(
        description="Whether orders take from the shards now (false before a split, and "
        "after the tail of the sale collapsed them back)."
    )
    allocated: int = Field(description="Tickets assigned to resellers.")
    sold: int = Field(description="Tickets sold by everyone.")
    held: int = Field(description="Tickets in reserved orders that have not ended.")
    available: int = Field(description="number_of_tickets - sold - held.")


class EventEnvelope(Out):
    event: EventOut


class EventPage(Out):
    events: list[EventOut]
    next_token: str | None


class AllocationOut(Out):
    reseller_id: str
    ticket_type_id: str
    number_of_tickets: int
    sold: int
    held: int
    available: int
    on_sale: bool = Field(description="The reseller's switch, for all its types of the event.")


class AllocationList(Out):
    allocations: list[AllocationOut]


class AllocationEnvelope(Out):
    allocation: AllocationOut


class EventSummaryOut(Out):
    title: str
    time: datetime
    price: str
    currency_code: str


class MyAllocationOut(Out):
    event_id: str
    event: EventSummaryOut
    ticket_type_id: str
    ticket_type_name: str | None
    number_of_tickets: int
    sold: int
    held: int
    available: int
    on_sale: bool


class MyAllocationPage(Out):
    allocations: list[MyAllocationOut]
    next_token: str | None


class MyAllocationEnvelope(Out):
    allocation: MyAllocationOut
    allocations: list[MyAllocationOut] = Field(description="One per ticket type I hold.")


class OfferOut(Out):
    seller_id: str
    seller_name: str | None
    seller_role: Literal["organizer", "reseller"]
    price: str
    currency_code: str
    available: int


class OfferList(Out):
    offers: list[OfferOut]


class HolderOut(Out):
    name: str
    phone: str


class TicketOut(Out):
    id: str
    event_id: str
    order_id: str | None = Field(description="Null for tickets sold before orders existed.")
    ticket_type_id: str
    ticket_type_name: str
    seller_id: str
    buyer_id: str
    holder: HolderOut | None = Field(
        description="The name and phone given with the booking (the buyer record keeps its own)."
    )
    code: str = Field(examples=["K7QM-3XPA-9HTD"])
    qr: str = Field(
        description="What the ticket's QR code holds: a JWS (compact, EdDSA over Ed25519, `kid` "
        'in the header) over `{"tid", "eid", "code", "iat"}`, verifiable offline with the keys '
        "of GET /ticket-keys."
    )
    price: str
    currency_code: str
    created_at: datetime
    status: Literal["valid", "checked_in", "cancelled"] = Field(
        description="`checked_in` once its holder got in at the door. A cancelled ticket stays "
        "listed (and refused at the door); its seat went back to its seller and counts no more "
        "as sold."
    )
    cancelled_at: datetime | None = None
    checked_in_at: datetime | None = Field(
        default=None, description="When the holder got in at the door."
    )


class RevokedOut(Out):
    ticket_id: str
    cancelled_at: datetime


class RevokedPage(Out):
    revoked: list[RevokedOut]
    next_token: str | None


class MyEventOut(Out):
    id: str
    title: str
    time: datetime
    cancellable_until: datetime | None


class MyTicketOut(Out):
    id: str
    event: MyEventOut | None = Field(description="Null once the event was deleted.")
    code: str
    qr: str = Field(description="What the ticket's QR code holds (see TicketOut).")
    holder: HolderOut | None
    order_id: str | None = Field(description="Null for tickets sold before orders existed.")
    ticket_type_id: str
    ticket_type_name: str
    price: str
    currency_code: str
    created_at: datetime
    status: Literal["valid", "checked_in", "cancelled"]
    checked_in_at: datetime | None
    cancelled_at: datetime | None
    cancellable: bool = Field(description="Whether DELETE /my-tickets/{key} would cancel it now.")


class MyTicketPage(Out):
    tickets: list[MyTicketOut] = Field(description="Newest booking first.")
    next_token: str | None


class ScannerOut(Out):
    id: str
    name: str
    created_at: datetime


class ScannerCreatedOut(Out):
    scanner: ScannerOut
    token: str = Field(
        description="The device's bearer token, shown this once: it checks in this event's "
        "tickets and reads its check-ins and revoked tickets, nothing else."
    )


class ScannerPage(Out):
    scanners: list[ScannerOut]
    next_token: str | None


class CheckInOut(Out):
    ticket_id: str
    code: str
    holder_name: str | None = Field(description="None once the buyer's data was erased.")
    checked_in_at: datetime


class CheckInEnvelope(Out):
    check_in: CheckInOut


class CheckInPage(Out):
    sold: int = Field(description="Tickets of the event sold and not cancelled.")
    checked_in: int = Field(description="Of those, how many got in.")
    check_ins: list[CheckInOut] = Field(description="Latest first.")
    next_token: str | None


class AuditEntryOut(Out):
    id: str
    at: datetime
    actor_id: str | None = Field(description="Null when the system acted (e.g. the lockout rule).")
    actor_role: str | None
    action: str = Field(examples=["user.blocked"])
    target_type: str = Field(examples=["user"])
    target_id: str
    details: dict[str, str | int | bool | None] = Field(
        description="What changed, by name: text, whole numbers and booleans keep their types."
    )


class AuditPage(Out):
    entries: list[AuditEntryOut] = Field(description="Newest first.")
    next_token: str | None


class WebhookOut(Out):
    id: str
    url: str
    events: list[str]
    active: bool = Field(
        description="False once the endpoint answered 410 Gone, or kept not answering."
    )
    disabled_reason: str | None = Field(
        default=None,
        description='Why it is inactive: "410 Gone" or "no answer, pause after pause".',
    )
    paused_until: datetime | None = Field(
        default=None,
        description="Set while deliveries wait because its last attempts got no answer.",
    )
    created_at: datetime


class WebhookEnvelope(Out):
    webhook: WebhookOut


class WebhookCreatedOut(Out):
    webhook: WebhookOut
    secret: str = Field(
        description="`whsec_...`, shown this once: verify each delivery's `webhook-signature` "
        "with it (Standard Webhooks)."
    )


class WebhookPage(Out):
    webhooks: list[WebhookOut]
    next_token: str | None


class DeliveryOut(Out):
    id: str
    event_id: str = Field(description="The change's id: the `webhook-id` header and body `id`.")
    type: str
    status: Literal["pending", "delivered", "failed", "disabled"]
    attempts: int
    last_status: int | None = Field(description="The last answer's HTTP status; 0: no answer.")
    delivered_at: datetime | None
    next_attempt_at: datetime | None


class DeliveryPage(Out):
    deliveries: list[DeliveryOut] = Field(description="Newest first.")
    next_token: str | None


class TicketKeysOut(Out):
    keys: list[dict[str, str]] = Field(
        description="Public JWKs (`kty` OKP, `crv` Ed25519, `kid`, `x`), the signing key first; "
        "earlier keys stay listed so tickets they signed still verify."
    )


class BookingOut(Out):
    order_id: str = Field(description="The paid order these tickets belong to.")
    tickets: list[TicketOut]
    email: Literal["queued"] = Field(
        description="The confirmation email (codes and QR images) goes out from the event "
        "stream within seconds; the booking never waits for it."
    )


class TicketEnvelope(Out):
    ticket: TicketOut


class TicketPage(Out):
    tickets: list[TicketOut]
    next_token: str | None


class BuyerOut(Out):
    id: str
    name: str
    email: str
    phone: str
    created_at: datetime
    updated_at: datetime


class BuyerWithTicketsOut(BuyerOut):
    tickets: list[str] = Field(description="Ids of the tickets the buyer holds.")


class BuyerEnvelope(Out):
    buyer: BuyerOut


class BuyerDetailEnvelope(Out):
    buyer: BuyerWithTicketsOut


class BuyerPage(Out):
    buyers: list[BuyerOut]
    next_token: str | None


class TicketTypeOut(Out):
    id: str
    name: str
    description: str | None
    price: str
    currency_code: str
    quantity: int | None = Field(description="Its own limit; null: only the event's capacity.")
    sold: int
    held: int
    available: int = Field(
        description="What one order could take now: the least of what its own quantity, the "
        "event's capacity and the seller's stock leave (the organizer's, unless `seller_id` "
        "or a seller's token names another)."
    )
    available_from: datetime | None
    available_until: datetime | None
    max_per_order: int
    on_sale: bool


class TicketTypeList(Out):
    ticket_types: list[TicketTypeOut]


class TicketTypeEnvelope(Out):
    ticket_type: TicketTypeOut


class OrderLineOut(Out):
    ticket_type_id: str
    name: str
    quantity: int
    unit_price: str = Field(description="The type's price when ordered.")
    discount: str = Field(
        description='Taken off each ticket of the line by the order\'s voucher ("0" without).'
    )


class DiscountOut(Out):
    type: Literal["percent", "amount", "price"]
    value: str


class VoucherOut(Out):
    id: str
    code: str
    discount: DiscountOut
    max_uses: int | None
    uses: int = Field(description="Orders paid with it or holding it (reserved).")
    valid_until: datetime | None
    ticket_type_ids: list[str] | None = Field(description="Null: every type of the event.")
    created_at: datetime
    updated_at: datetime


class VoucherEnvelope(Out):
    voucher: VoucherOut


class VoucherPage(Out):
    vouchers: list[VoucherOut]
    next_token: str | None


class PaymentOut(Out):
    provider: Literal["stripe"]
    client_secret: str | None = Field(
        description="The PaymentIntent's client secret, for Stripe.js (`confirmCardPayment`) "
        "in your own page; null while Stripe could not be reached (the checkout page opens it)."
    )
    checkout_url: str | None = Field(
        description="Our own checkout page for this order (carries a signed token for it, "
        "valid until a day after the hold ends); null once the order is no longer reserved."
    )


class RefundOut(Out):
    id: str
    amount: str
    currency_code: str
    status: Literal["pending", "succeeded", "failed"] = Field(
        description="`pending` while Stripe has not confirmed it (tried again when the order is "
        "read); offline refunds are recorded as `succeeded`."
    )
    source: Literal["organizer", "buyer", "late_payment", "duplicate_payment", "provider"] = Field(
        description="Who gave it: an organizer or admin, the buyer cancelling a ticket, the API "
        "for a payment that came after the hold ended (or paid twice), or Stripe's dashboard."
    )
    reason: str | None
    ticket_ids: list[str] | None = Field(description="The tickets it cancelled.")
    created_at: datetime


class RefundEnvelope(Out):
    refund: RefundOut


class RefundList(Out):
    refunds: list[RefundOut]


class DisputeOut(Out):
    id: str
    amount: str
    reason: str | None
    status: str | None
    created_at: datetime


class OrderOut(Out):
    id: str
    status: Literal["reserved", "paid", "expired", "cancelled", "partially_refunded", "refunded"]
    event_id: str
    seller_id: str
    buyer_id: str
    items: list[OrderLineOut]
    total: str
    voucher: str | None = Field(default=None, description="The voucher code the order used.")
    currency_code: str
    created_at: datetime
    expires_at: datetime | None = Field(
        description="Until when a reserved order holds its tickets; null once paid at once."
    )
    paid_at: datetime | None
    ended_at: datetime | None = Field(description="When it expired or was cancelled.")
    payment: PaymentOut | None = Field(
        description="The card payment under way; null for orders paid outside the API."
    )
    tickets: list[TicketOut] | None = Field(
        default=None, description="The order's tickets, once paid (in GET /orders/{id})."
    )
    paid: str | None = Field(default=None, description="What was paid, once paid.")
    refunded: str | None = Field(default=None, description="How much of it was given back.")
    refunds: list[RefundOut] | None = Field(default=None, description="In GET /orders/{id}.")
    dispute: DisputeOut | None = Field(
        default=None, description="A chargeback the buyer's bank opened (from Stripe)."
    )


class OrderEnvelope(Out):
    order: OrderOut


class PayOut(Out):
    order: OrderOut
    next_action: Literal["authenticate"] | None = Field(
        description="`authenticate`: the card asks for 3-D Secure; finish with Stripe.js "
        "`confirmCardPayment(client_secret)`, then read the order."
    )
    client_secret: str | None = None


class PlacedOrderOut(Out):
    order: OrderOut
    order_token: str = Field(
        description="A bearer token for this order only (GET /orders/{id}, POST "
        "/orders/{id}/cancel), valid until 24 hours after the event: give it to the buyer."
    )
    email: Literal["queued"] | None = Field(
        description="`queued` when the order is paid: the confirmation goes out from the event "
        "stream within seconds."
    )


class OrderPage(Out):
    orders: list[OrderOut]
    next_token: str | None


class StripeReceipt(Out):
    received: bool
    outcome: str = Field(
        description="What the event did: paid, already (done before), refunded, recorded, ignored."
    )


# --- reports ---------------------------------------------------------------------------------


class FiguresOut(Out):
    sold: int = Field(description="Valid tickets: cancelled and refunded ones are out.")
    held: int = Field(description="In reserved orders.")
    checked_in: int
    gross: str = Field(description="All that paid orders paid, refunded or not.")
    refunded: str
    net: str = Field(description="gross - refunded.")


class TypeFiguresOut(FiguresOut):
    ticket_type_id: str
    name: str
    waiting: int = Field(description="Entries on its waiting list, not yet offered tickets.")


class SellerFiguresOut(FiguresOut):
    seller_id: str
    role: Literal["organizer", "reseller"]
    collected_by_seller: str = Field(description="Of gross, paid outside the API.")
    online: str = Field(description="Of gross, paid by card through the API.")


class EventReportOut(Out):
    event_id: str
    title: str
    currency_code: str
    ticket_types: list[TypeFiguresOut]
    sellers: list[SellerFiguresOut]
    totals: FiguresOut
    waiting: int = Field(description="Waiting-list entries of all its types.")


class EventReportEnvelope(Out):
    report: EventReportOut


class SellerTypeOut(Out):
    ticket_type_id: str
    name: str | None = Field(description="Null if the type was deleted.")
    share: int
    sold: int
    held: int
    gross: str
    refunded: str
    net: str


class SellerEventOut(FiguresOut):
    event_id: str
    title: str
    time: datetime
    currency_code: str
    collected_by_seller: str = Field(description="Of gross, paid outside the API.")
    online: str = Field(description="Of gross, paid by card through the API.")
    ticket_types: list[SellerTypeOut] = Field(
        description="A reseller's share of each type it was given (empty for an organizer)."
    )


class SellerReportOut(Out):
    seller_id: str
    events: list[SellerEventOut]
    next_token: str | None


class ExportOut(Out):
    url: str = Field(description="Downloads the file (also the answer's Location).")
    expires_at: datetime = Field(description="Until when the link works.")
    rows: int = Field(description="Order lines written (the header row not counted).")
    filename: str


class ExportEnvelope(Out):
    export: ExportOut


class WaitingBuyerOut(Out):
    name: str
    email: str
    phone: str


class WaitingEntryOut(Out):
    id: str
    ticket_type_id: str
    quantity: int
    buyer: WaitingBuyerOut
    priority: int = Field(
        description="Higher goes first; entries of one priority in the order "
        "they joined. 0 unless the organizer set it."
    )
    status: Literal["waiting", "offered", "claimed", "lapsed", "left"] = Field(
        description="waiting: in the queue; offered: its tickets are held in `order_id` for "
        "the buyer to pay; claimed: paid; lapsed: the offer ended unpaid; left: left the list."
    )
    created_at: datetime
    order_id: str | None = Field(description="The offer, once made.")


class WaitingEntryEnvelope(Out):
    entry: WaitingEntryOut


class WaitingListPage(Out):
    entries: list[WaitingEntryOut]
    next_token: str | None


class QueuePlaceOut(Out):
    queue_token: str = Field(description="The place: poll GET /queue/{queue_token}.")
    position: int | None = Field(
        description="1 is first. Null before `opens_at`: early places are shuffled then."
    )


class QueueStatusOut(Out):
    position: int | None = Field(description="Null before `opens_at` for a place taken early.")
    admitted: bool
    admission: str | None = Field(
        description="Once admitted: send it as X-Admission with POST /orders (10 minutes, "
        "one order)."
    )
    estimated_wait_s: int = Field(description="Seconds until admission, at the queue's rate.")
