"""The one place that reads configuration from the environment."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

STAGES = ("dev", "prod")

# Outside dev these must come from the environment (or SSM through the deployment):
# a production stack must never fall back to a local default.
REQUIRED_OUTSIDE_DEV = ("APP_URL", "JWT_SECRET", "SES_SENDER")

# Sign-in provider endpoints; outside dev they must be https.
PROVIDER_URLS = (
    "GOOGLE_DEVICE_CODE_URL",
    "GOOGLE_TOKEN_URL",
    "GOOGLE_JWKS_URL",
    "GITHUB_DEVICE_CODE_URL",
    "GITHUB_TOKEN_URL",
    "GITHUB_API_URL",
)

# RFC 7518 asks for an HS256 key of at least 256 bits.
MIN_JWT_SECRET_LENGTH = 32

LOCAL_ADMIN_EMAIL = "admin@example.com"
# Dev stage only (printed by `make run`); other stages require ADMIN_PASSWORD.
LOCAL_ADMIN_PASSWORD = "Admin-Passw0rd-Local!"  # noqa: S105


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

    @property
    def is_local(self) -> bool:
        """Local mode prints emails and their links to the console; never in production."""
        return self.stage == "dev"

    def table_name(self, base: str) -> str:
        return f"{self.table_prefix}{base}"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from an environment mapping, failing with the variable's name."""
    env = os.environ if env is None else env

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(name, "").strip()
        return value or default

    stage = get("STAGE", "dev")
    if stage not in STAGES:
        raise SettingsError(f"STAGE must be one of {', '.join(STAGES)}, not {stage!r}.")
    # `chalice package` / `chalice deploy` import the app on the build machine only to read its
    # routes; the deployed function gets its secrets at run time, so they are checked there.
    packaging = bool(get("AWS_CHALICE_CLI_MODE"))
    if stage != "dev" and not packaging:
        missing = [name for name in REQUIRED_OUTSIDE_DEV if not get(name)]
        if missing:
            raise SettingsError(
                f"Missing required setting(s) for stage {stage!r}: {', '.join(missing)}."
            )
        if len(get("JWT_SECRET")) < MIN_JWT_SECRET_LENGTH:
            raise SettingsError(
                f"JWT_SECRET must be at least {MIN_JWT_SECRET_LENGTH} characters for HS256."
            )

    settings = Settings(
        stage=stage,
        table_prefix=get("TABLE_PREFIX", f"events-api-{stage}-"),
        aws_region=get("AWS_REGION", get("AWS_DEFAULT_REGION", "us-east-1")),
        aws_endpoint_url=get("AWS_ENDPOINT_URL"),
        app_url=get("APP_URL", "http://127.0.0.1:8000").rstrip("/"),
        # A dev process without JWT_SECRET gets a fresh random one: local tokens then
        # simply stop working at restart, which is harmless since local data is in memory.
        jwt_secret=get("JWT_SECRET") or secrets.token_urlsafe(32),
        ses_sender=get("SES_SENDER", "tickets@example.com"),
        admin_email=get("ADMIN_EMAIL", LOCAL_ADMIN_EMAIL if stage == "dev" else None),
        admin_password=get("ADMIN_PASSWORD", LOCAL_ADMIN_PASSWORD if stage == "dev" else None),
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
    )
    if stage != "dev" and not packaging:
        plain = [
            name
            for name in PROVIDER_URLS
            if not getattr(settings, name.lower()).startswith("https://")
        ]
        if plain:
            raise SettingsError(f"Outside dev these must be https:// URLs: {', '.join(plain)}.")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
