"""Helpers for tests that pay: cards tokenised at the local Stripe (localstripe) as Stripe.js
would in a browser, and webhook events signed as Stripe signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import requests

from tests.conftest import TEST_ENV

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"
CARD_3DS = "4000002500003155"


def card_token(number: str = CARD_OK, *, api_url: str | None = None) -> str:
    """What `stripe.createToken(card)` gives the checkout page: a token for the card."""
    response = requests.post(
        f"{api_url or TEST_ENV['STRIPE_API_URL']}/v1/tokens",
        data={"card[number]": number, "card[exp_month]": "12", "card[exp_year]": "2030",
              "card[cvc]": "123", "key": TEST_ENV["STRIPE_PUBLISHABLE_KEY"]},
        timeout=10,
    )  # fmt: skip
    response.raise_for_status()
    return response.json()["id"]


def stripe_get(path: str, *, api_url: str | None = None) -> dict:
    response = requests.get(
        f"{api_url or TEST_ENV['STRIPE_API_URL']}/v1/{path}",
        headers={"Authorization": f"Bearer {TEST_ENV['STRIPE_SECRET_KEY']}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def authenticate(intent_id: str, client_secret: str, *, success: bool = True) -> dict:
    """The buyer's answer to the 3-D Secure prompt (what the fake Stripe.js posts)."""
    response = requests.post(
        f"{TEST_ENV['STRIPE_API_URL']}/v1/payment_intents/{intent_id}/_authenticate",
        params={"success": "true" if success else "false"},
        json={"key": TEST_ENV["STRIPE_PUBLISHABLE_KEY"], "client_secret": client_secret},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def event(type_: str, obj: dict, *, event_id: str | None = None) -> dict:
    return {"id": event_id or f"evt_{uuid.uuid4().hex[:14]}", "object": "event",
            "type": type_, "created": int(time.time()), "data": {"object": obj}}  # fmt: skip


def sign(body: bytes, *, at: int | None = None, secret: str | None = None) -> str:
    """A `Stripe-Signature` header for `body`, made as Stripe makes it."""
    at = int(time.time()) if at is None else at
    key = (secret or TEST_ENV["STRIPE_WEBHOOK_SECRET"]).encode()
    digest = hmac.new(key, f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def post_event(client, payload: dict, *, signature: str | None = None, at: int | None = None):
    """POST a webhook event to the API through chalice's test client."""
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": signature if signature is not None else sign(body, at=at),
    }
    return client.http.post("/payments/stripe", body=body, headers=headers)  # fmt: skip
