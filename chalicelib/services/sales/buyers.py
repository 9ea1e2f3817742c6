"""Buyers: people without accounts, unique by email, created by their first booking.

Only admins change a stored buyer: a later booking with the same email leaves the record as it
is, and the name and phone it gave are kept on its tickets as their holder.
"""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.transactions import TransactWrite

from chalicelib.auth.principal import Principal
from chalicelib.db import transactions
from chalicelib.db.base import get_or_none, new_id, utcnow
from chalicelib.db.buyers import Buyer
from chalicelib.db.pagination import Page, fetch_page
from chalicelib.db.tickets import Ticket, any_live
from chalicelib.db.uniques import BUYER_EMAIL, UniqueClaim, unique_key
from chalicelib.email.addresses import normalize_email
from chalicelib.errors import BuyerHasTickets, Conflict, Forbidden, NotFound


@dataclass(frozen=True)
class BuyerDetails:
    name: str
    email: str
    phone: str


@dataclass(frozen=True)
class BuyerWrite:
    """The buyer half of a booking transaction: create a new buyer, or only mark the known one
    as booked (its name and phone stay as they are)."""

    buyer: Buyer
    is_new: bool

    def add_to(self, tx: TransactWrite) -> None:
        if self.is_new:
            claim = UniqueClaim(
                key=unique_key(BUYER_EMAIL, self.buyer.email), owner_id=self.buyer.id
            )
            # Two first bookings with one new email race here; the loser retries as known.
            tx.save(claim, condition=UniqueClaim.key.does_not_exist())
            tx.save(self.buyer, condition=Buyer.id.does_not_exist())
            return
        tx.update(
            self.buyer,
            # Touched so that deleting this buyer, decided on a read, fails if a booking lands.
            actions=[Buyer.last_booking_at.set(utcnow())],
            # The buyer must still exist under this email (not deleted or renamed meanwhile).
            condition=Buyer.id.exists() & (Buyer.email == self.buyer.email),
        )


def buyer_claim_key(details: BuyerDetails) -> str:
    """The key of the claim that maps this buyer's email to its buyer id."""
    return unique_key(BUYER_EMAIL, normalize_email(details.email))


def buyer_write(details: BuyerDetails, claim: UniqueClaim | None) -> BuyerWrite:
    """The buyer half of a booking, from the email's claim as just read (None: a new buyer)."""
    now = utcnow()
    buyer = Buyer(
        id=claim.owner_id if claim else new_id(),
        name=details.name,
        email=normalize_email(details.email),
        phone=details.phone,
        created_at=now,
        updated_at=now,
    )
    return BuyerWrite(buyer=buyer, is_new=claim is None)


def read_buyer_write(details: BuyerDetails) -> BuyerWrite:
    claim = get_or_none(UniqueClaim, buyer_claim_key(details), consistent_read=True)
    return buyer_write(details, claim)


def _require_admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise Forbidden()


def list_buyers(*, actor: Principal, limit: int, next_token: str | None) -> Page[Buyer]:
    _require_admin(actor)
    return fetch_page(Buyer, Buyer.scan, scope="buyers", limit=limit, next_token=next_token)


def get_buyer(*, actor: Principal, buyer_id: str) -> tuple[Buyer, list[str]]:
    """The buyer and the ids of the tickets they hold."""
    _require_admin(actor)
    buyer = get_or_none(Buyer, buyer_id, consistent_read=True)
    if buyer is None:
        raise NotFound()
    return buyer, [t.id for t in Ticket.by_buyer.query(buyer_id)]


def update_buyer(
    *,
    actor: Principal,
    buyer_id: str,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> Buyer:
    _require_admin(actor)
    buyer = get_or_none(Buyer, buyer_id, consistent_read=True)
    if buyer is None:
        raise NotFound()
    actions = [Buyer.updated_at.set(utcnow())]
    if name is not None:
        actions.append(Buyer.name.set(name))
    if phone is not None:
        actions.append(Buyer.phone.set(phone))
    new_email = normalize_email(email) if email is not None else buyer.email
    if new_email != buyer.email:
        # A session opened through the old address belonged to whoever read that inbox: it
        # ends here, with every other session of this buyer.
        actions.append(Buyer.token_version.add(1))

    def build(tx: TransactWrite) -> None:
        condition = Buyer.email == buyer.email
        if new_email != buyer.email:
            tx.delete(
                UniqueClaim(key=unique_key(BUYER_EMAIL, buyer.email)),
                condition=UniqueClaim.owner_id == buyer.id,
            )
            tx.save(
                UniqueClaim(key=unique_key(BUYER_EMAIL, new_email), owner_id=buyer.id),
                condition=UniqueClaim.key.does_not_exist(),
            )
        tx.update(buyer, actions=[*actions, Buyer.email.set(new_email)], condition=condition)

    if not transactions.write_unless_refused(build):
        raise Conflict("Another buyer already uses that email.", code="buyer_email_taken")
    buyer.refresh(consistent_read=True)
    return buyer


def delete_buyer(*, actor: Principal, buyer_id: str) -> None:
    _require_admin(actor)
    buyer = get_or_none(Buyer, buyer_id, consistent_read=True)
    if buyer is None:
        raise NotFound()
    if any_live(Ticket.by_buyer, buyer_id) or not erase(buyer):
        raise BuyerHasTickets()


def erase(buyer: Buyer) -> bool:
    """Delete the buyer and its email claim, then strip the holder's name and phone from the
    tickets it leaves (cancelled ones, or past ones when the buyer erases its own data).
    False, with nothing changed, when a booking for this buyer landed since it was read."""
    unchanged = (
        Buyer.last_booking_at == buyer.last_booking_at
        if buyer.last_booking_at
        else Buyer.last_booking_at.does_not_exist()
    )

    def build(tx: TransactWrite) -> None:
        # A booking for this buyer sets `last_booking_at`; if one lands after our check the
        # delete is cancelled instead of leaving a ticket without its buyer.
        tx.delete(buyer, condition=Buyer.id.exists() & unchanged)
        tx.delete(
            UniqueClaim(key=unique_key(BUYER_EMAIL, buyer.email)),
            condition=UniqueClaim.owner_id == buyer.id,
        )

    if not transactions.write_unless_refused(build):
        return False
    for ticket in Ticket.by_buyer.query(buyer.id):
        if ticket.holder is not None:
            ticket.update(actions=[Ticket.holder.remove()], condition=Ticket.id.exists())
    return True
