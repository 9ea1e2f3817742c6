"""The app's settings for in-process measurements (imported before the app, which reads them)."""

from __future__ import annotations

from chalicelib.auth.ticket_keys import local_key_set
from devstack.harness import free_port

# The local Stripe the in-process measurements pay through (bench.costs starts it).
STRIPE_PORT = free_port()

BENCH_ENV = {
    "STAGE": "dev",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "JWT_SECRET": "bench-secret-bench-secret-bench-secret",
    "APP_URL": "http://bench.test",
    "SES_SENDER": "tickets@example.com",
    "TICKET_KEYS": local_key_set(),
    "ADMIN_EMAIL": "admin@example.com",
    "ADMIN_PASSWORD": "bench-admin-password",
    # The app's own work per request; each abuse limit adds one conditional UpdateItem
    # (an anonymous booking: two, the address and the recipient).
    "RATE_LIMITS": "off",
    "STRIPE_SECRET_KEY": "sk_test_local",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_local",
    "STRIPE_WEBHOOK_SECRET": "whsec_bench",
    "STRIPE_API_URL": f"http://127.0.0.1:{STRIPE_PORT}",
    "STRIPE_JS_URL": f"http://127.0.0.1:{STRIPE_PORT}/js.stripe.com/v3/",
}
