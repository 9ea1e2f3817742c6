"""The one place that reads configuration from the environment."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlparse

STAGES = ("dev", "prod")

# Outside the local stack these must come from the environment (or SSM through the
# deployment): a deployed function must never fall back to a local default.
REQUIRED_OUTSIDE_LOCAL = ("APP_URL", "JWT_SECRET", "SES_SENDER")
# Required of the API function alone (the authorizer never signs tickets, and never gets the
# keys): checked by chalicelib.auth.ticket_keys.check_configured at the API's start.
TICKET_KEYS = "TICKET_KEYS"

# Sign-in provider endpoints; outside the local stack they must be https.
PROVIDER_URLS = (
    "GOOGLE_DEVICE_CODE_URL",
    "GOOGLE_TOKEN_URL",
    "GOOGLE_JWKS_URL",
    "GITHUB_DEVICE_CODE_URL",
    "GITHUB_TOKEN_URL",
    "GITHUB_API_URL",
)
# Stripe's API and Stripe.js: https, or a local fake on loopback (localstripe, in the tests).
STRIPE_URLS = ("STRIPE_API_URL", "STRIPE_JS_URL")

# RFC 7518 asks for an HS256 key of at least 256 bits.
MIN_JWT_SECRET_LENGTH = 32

LOCAL_ADMIN_EMAIL = "admin@example.com"
# The local stack only (printed by `make run`); anywhere else ADMIN_PASSWORD is required.
LOCAL_ADMIN_PASSWORD = "Admin-Passw0rd-Local!"  # noqa: S105

# Abuse limits: name -> (requests, window in seconds), each overridable with
# RATE_LIMIT_<NAME>="<requests>/<seconds>". The README's "Security model" explains each.
DEFAULT_RATE_LIMITS: dict[str, tuple[int, int]] = {
    # Password checks (login, reset, token exchanges) from one source address.
    "auth_ip": (30, 60),
    # Logins naming one email, from anywhere: slows guessing across many addresses.
    "login_email": (10, 60),
    # Requests that send an email (register, resend, forgot password) from one address.
    "email_ip": (10, 3600),
    # Requests naming one email as the recipient of a link (resend, forgot password).
    "link_email": (5, 3600),
    # Emails to one recipient from any route: the contract's ceiling.
    "recipient": (10, 3600),
    # Device-flow starts and polls from one address.
    "device_ip": (60, 60),
    # Anonymous bookings from one address.
    "booking_ip": (30, 3600),
    # Bookings by one logged-in seller for its buyers.
    "booking_seller": (600, 3600),
    # Orders (POST /orders) from one address without a seller's token.
    "order_ip": (30, 3600),
    # A buyer asking for its tickets by email again.
    "tickets_resend": (3, 3600),
    # Places taken in on-sale queues (POST /events/{id}/queue) from one address.
    "queue_ip": (10, 3600),
}


class SettingsError(RuntimeError):
    """Configuration that the app cannot start with."""


@dataclass(frozen=True)
class Settings:
    stage: str
    table_prefix: str
    aws_region: str
    aws_endpoint_url: str | None
    app_url: str
    jwt_secret: str
    # The JWK set that signs tickets (chalicelib.auth.ticket_keys); None: generated locally.
    ticket_keys: str | None
    ses_sender: str
    admin_email: str | None
    admin_password: str | None
    google_client_id: str | None
    google_client_secret: str | None
    google_device_code_url: str
    google_token_url: str
    google_jwks_url: str
    google_issuer: tuple[str, ...]
    github_client_id: str | None
    github_client_secret: str | None
    github_device_code_url: str
    github_token_url: str
    github_api_url: str
    # The local stack: AWS is an emulator on loopback and this is not a Lambda function.
    # Only then do local defaults apply and emails' links get printed.
    is_local: bool = False
    # Neither local nor packaging: required settings are enforced.
    strict: bool = False
    rate_limits_on: bool = True
    rate_limits: dict[str, tuple[int, int]] = field(
        default_factory=lambda: dict(DEFAULT_RATE_LIMITS)
    )
    # Seconds between a webhook delivery's attempts; None: the documented three-day schedule.
    webhook_retry_after: tuple[int, ...] | None = None
    # Unpaid (reserved) orders one buyer email may hold at once for one event.
    reserved_orders_per_buyer: int = 3
    # Card payments (chalicelib.payments): without a secret key, `online` events take no orders.
    stripe_secret_key: str | None = None
    stripe_publishable_key: str | None = None
    stripe_webhook_secret: str | None = None
    # Stripe's API, or the local fake's (localstripe) in the local stack and the tests.
    stripe_api_url: str = "https://api.stripe.com"
    # Where the checkout page loads Stripe.js from (localstripe serves a fake one locally).
    stripe_js_url: str = "https://js.stripe.com/v3/"
    # The queue of side effects (emails, webhook attempts): set by the deployment template;
    # locally and in the tests found by name (`queue_name("side-effects")`).
    side_effects_queue_url: str | None = None
    # Where order exports are written (a bucket whose objects expire in a day): set by the
    # deployment template; locally and in the tests `<TABLE_PREFIX>exports`.
    exports_bucket: str | None = None

    def table_name(self, base: str) -> str:
        return f"{self.table_prefix}{base}"

    def queue_name(self, base: str) -> str:
        return f"{self.table_prefix}{base}"

    @property
    def exports_bucket_name(self) -> str:
        return self.exports_bucket or f"{self.table_prefix}exports".lower().replace("_", "-")


def _on_loopback(url: str | None) -> bool:
    if not url:
        return False
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _rate_limits(get: Callable[[str], str | None]) -> dict[str, tuple[int, int]]:
    limits = dict(DEFAULT_RATE_LIMITS)
    for name in limits:
        variable = f"RATE_LIMIT_{name.upper()}"
        raw = get(variable)
        if raw is None:
            continue
        count, _, seconds = raw.partition("/")
        if not (count.isascii() and count.isdigit() and seconds.isascii() and seconds.isdigit()):
            raise SettingsError(f"{variable} must look like 10/3600 (requests/seconds).")
        if int(count) < 1 or int(seconds) < 1:
            raise SettingsError(f"{variable} needs at least 1 request in at least 1 second.")
        limits[name] = (int(count), int(seconds))
    return limits


# Secrets a deployment keeps in SSM Parameter Store: the function gets `<NAME>_PARAMETER`, the
# parameter's name, and reads the SecureString once at cold start (never the value in its
# configuration, where CloudFormation would write it in plain text).
SECRETS = (
    "JWT_SECRET", "TICKET_KEYS", "GOOGLE_CLIENT_SECRET", "GITHUB_CLIENT_SECRET", "ADMIN_PASSWORD",
    "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET",
)  # fmt: skip


def _ticket_keys(raw: str | None) -> str | None:
    """TICKET_KEYS, checked for shape (the keys themselves load on the first signature):
    a JWK set of Ed25519 keys with distinct ids, the first with its private part."""
    if raw is None:
        return None
    problem = "TICKET_KEYS must be a JWK set of Ed25519 keys, the first with its private part d"
    try:
        keys = json.loads(raw)["keys"]
    except (ValueError, TypeError, KeyError):
        raise SettingsError(f"{problem}.") from None
    fields = ("kty", "crv", "kid", "x")
    if not (
        isinstance(keys, list)
        and keys
        and all(
            isinstance(k, dict) and all(isinstance(k.get(f), str) for f in fields) for k in keys
        )
        and all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and k["kid"] for k in keys)
        and isinstance(keys[0].get("d"), str)
    ):
        raise SettingsError(f"{problem}.")
    if len({k["kid"] for k in keys}) != len(keys):
        raise SettingsError("TICKET_KEYS: each key needs its own kid.")
    return raw


def _region(env: Mapping[str, str]) -> str:
    return (
        env.get("AWS_REGION", "").strip()
        or env.get("AWS_DEFAULT_REGION", "").strip()
        or "us-east-1"
    )


def read_parameter(name: str, *, region: str, endpoint_url: str | None) -> str:
    """One SecureString from SSM Parameter Store, decrypted."""
    import boto3  # only deployments that keep secrets in SSM pay for the client
    from botocore.exceptions import BotoCoreError, ClientError

    ssm = boto3.session.Session().client("ssm", region_name=region, endpoint_url=endpoint_url)
    try:
        return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except (BotoCoreError, ClientError) as exc:
        raise SettingsError(f"Cannot read the SSM parameter {name}: {exc}") from exc


def _with_secrets(env: Mapping[str, str]) -> dict[str, str]:
    """The environment with each secret given by parameter name read from SSM."""
    resolved = dict(env)
    region = _region(env)
    for name in SECRETS:
        parameter = env.get(f"{name}_PARAMETER", "").strip()
        if parameter and not env.get(name, "").strip():
            resolved[name] = read_parameter(
                parameter, region=region, endpoint_url=env.get("AWS_ENDPOINT_URL") or None
            )
    return resolved


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from an environment mapping, failing with the variable's name."""
    env = os.environ if env is None else env
    if not env.get("AWS_CHALICE_CLI_MODE") or env.get("AWS_LAMBDA_FUNCTION_NAME"):
        env = _with_secrets(env)

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(name, "").strip()
        return value or default

    stage = get("STAGE", "dev")
    if stage not in STAGES:
        raise SettingsError(f"STAGE must be one of {', '.join(STAGES)}, not {stage!r}.")
    in_lambda = bool(get("AWS_LAMBDA_FUNCTION_NAME"))
    # Whatever the stage: a Lambda function is never local, even pointed at loopback.
    is_local = _on_loopback(get("AWS_ENDPOINT_URL")) and not in_lambda
    # `chalice package` / `chalice deploy` import the app on the build machine only to read its
    # routes; the deployed function gets its secrets at run time, so they are checked there.
    packaging = bool(get("AWS_CHALICE_CLI_MODE")) and not in_lambda
    rate_limits = get("RATE_LIMITS", "on")
    if rate_limits not in ("on", "off"):
        raise SettingsError(f"RATE_LIMITS must be on or off, not {rate_limits!r}.")
    if not is_local and not packaging:
        missing = [name for name in REQUIRED_OUTSIDE_LOCAL if not get(name)]
        if missing:
            raise SettingsError(
                f"Missing required setting(s) outside the local stack: {', '.join(missing)}. "
                "A secret may instead be named by <NAME>_PARAMETER (an SSM SecureString)."
            )
        if len(get("JWT_SECRET")) < MIN_JWT_SECRET_LENGTH:
            raise SettingsError(
                f"JWT_SECRET must be at least {MIN_JWT_SECRET_LENGTH} characters for HS256."
            )

    settings = Settings(
        stage=stage,
        table_prefix=get("TABLE_PREFIX", f"events-api-{stage}-"),
        aws_region=_region(env),
        aws_endpoint_url=get("AWS_ENDPOINT_URL"),
        app_url=get("APP_URL", "http://127.0.0.1:8000").rstrip("/"),
        # The local stack without JWT_SECRET gets a fresh random one: local tokens then simply
        # stop working at restart, which is harmless since local data is in memory. (While
        # packaging nothing is signed; a deployed function has checked JWT_SECRET above.)
        jwt_secret=get("JWT_SECRET") or secrets.token_urlsafe(32),
        ticket_keys=_ticket_keys(get("TICKET_KEYS")),
        ses_sender=get("SES_SENDER", "tickets@example.com"),
        admin_email=get("ADMIN_EMAIL", LOCAL_ADMIN_EMAIL if is_local else None),
        admin_password=get("ADMIN_PASSWORD", LOCAL_ADMIN_PASSWORD if is_local else None),
        google_client_id=get("GOOGLE_CLIENT_ID"),
        google_client_secret=get("GOOGLE_CLIENT_SECRET"),
        google_device_code_url=get(
            "GOOGLE_DEVICE_CODE_URL", "https://oauth2.googleapis.com/device/code"
        ),
        google_token_url=get("GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token"),
        google_jwks_url=get("GOOGLE_JWKS_URL", "https://www.googleapis.com/oauth2/v3/certs"),
        google_issuer=tuple(
            issuer.strip()
            for issuer in get(
                "GOOGLE_ISSUER", "https://accounts.google.com,accounts.google.com"
            ).split(",")
            if issuer.strip()
        ),
        github_client_id=get("GITHUB_CLIENT_ID"),
        github_client_secret=get("GITHUB_CLIENT_SECRET"),
        github_device_code_url=get(
            "GITHUB_DEVICE_CODE_URL", "https://github.com/login/device/code"
        ),
        github_token_url=get("GITHUB_TOKEN_URL", "https://github.com/login/oauth/access_token"),
        github_api_url=get("GITHUB_API_URL", "https://api.github.com"),
        is_local=is_local,
        strict=not is_local and not packaging,
        rate_limits_on=rate_limits == "on",
        rate_limits=_rate_limits(get),
        webhook_retry_after=_retry_after(get("WEBHOOK_RETRY_AFTER")),
        reserved_orders_per_buyer=_positive_int(
            "RESERVED_ORDERS_PER_BUYER", get("RESERVED_ORDERS_PER_BUYER", "3")
        ),
        stripe_secret_key=get("STRIPE_SECRET_KEY"),
        stripe_publishable_key=get("STRIPE_PUBLISHABLE_KEY"),
        stripe_webhook_secret=get("STRIPE_WEBHOOK_SECRET"),
        stripe_api_url=get("STRIPE_API_URL", "https://api.stripe.com").rstrip("/"),
        stripe_js_url=get("STRIPE_JS_URL", "https://js.stripe.com/v3/"),
        side_effects_queue_url=get("SIDE_EFFECTS_QUEUE_URL"),
        exports_bucket=get("EXPORTS_BUCKET"),
    )
    if not is_local and not packaging:
        plain = [
            name
            for name in PROVIDER_URLS
            if not getattr(settings, name.lower()).startswith("https://")
        ]
        plain += [
            name
            for name in STRIPE_URLS
            if not getattr(settings, name.lower()).startswith("https://")
            and not _on_loopback(getattr(settings, name.lower()))
        ]
        if plain:
            raise SettingsError(
                f"Outside the local stack these must be https:// URLs: {', '.join(plain)}."
            )
    return settings


def _positive_int(name: str, raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) <= 1000:
        raise SettingsError(f"{name} must be a whole number from 1 to 1000, not {raw!r}.")
    return int(raw)


def _retry_after(raw: str | None) -> tuple[int, ...] | None:
    """WEBHOOK_RETRY_AFTER="1,1,2": a shorter schedule, to watch retries happen locally."""
    if not raw:
        return None
    try:
        steps = tuple(int(step) for step in raw.split(","))
    except ValueError:
        raise SettingsError("WEBHOOK_RETRY_AFTER must be seconds separated by commas.") from None
    if not steps or any(not 0 < step <= 86400 for step in steps):
        raise SettingsError("WEBHOOK_RETRY_AFTER steps must be from 1 to 86400 seconds.")
    return steps


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
