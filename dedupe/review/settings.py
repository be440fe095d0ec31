"""Settings of the review web app (one frozen object, passed to `create_app`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dedupe.embed.encoder import Encoder
from dedupe.errors import ConfigError

DEV_SECRET = "dedupe-dev-secret-do-not-use-in-production"
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class ReviewSettings:
    """Where the index and the database are, and how sessions are protected.

    `secret_key` signs the session cookies; it defaults to `DEDUPE_SECRET_KEY`. Without one, only
    `dev=True` starts (with a fixed, public development secret). `secure_cookies` adds the
    `Secure` flag (set it when users reach the app over https, e.g. behind a reverse proxy).
    """

    index: Path
    db_url: str | None = None
    secret_key: str | None = None
    dev: bool = False
    secure_cookies: bool = False
    encoder: Encoder | str | None = None
    page_size: int = 25
    login_attempts: int = 5
    login_window: float = 300.0
    session_max_age: int = 8 * 3600

    def resolved_secret(self) -> str:
        secret = self.secret_key or os.environ.get("DEDUPE_SECRET_KEY", "")
        if not secret or secret == DEV_SECRET:
            if self.dev:
                return DEV_SECRET
            raise ConfigError(
                'set DEDUPE_SECRET_KEY to a long random string (e.g. `python -c "import secrets; '
                'print(secrets.token_urlsafe(48))"`); the development secret is only accepted '
                "with --dev"
            )
        if len(secret) < MIN_SECRET_LENGTH and not self.dev:
            raise ConfigError(
                f"DEDUPE_SECRET_KEY is {len(secret)} characters; use at least {MIN_SECRET_LENGTH}"
            )
        return secret
