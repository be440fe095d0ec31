"""Password hashing (argon2id), API tokens, sign-in rate limiting. No database, no web."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash("dedupe-no-such-user")
TOKEN_PREFIX = "ddp_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> tuple[bool, bool]:
    """(password matches, hash needs rehashing with current parameters)."""
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    if stored is None:
        return False, False
    return True, _hasher.check_needs_rehash(stored)


def new_password() -> str:
    """A generated password to hand to a user (about 120 bits)."""
    return secrets.token_urlsafe(15)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are long random strings, so a fast hash is enough (no dictionary to attack)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class LoginLimiter:
    """At most `attempts` failed sign-ins per user name, and `per_address` (default five
    times as many) per client address, in `window` s. An office behind one address is not
    locked out by one colleague's typos; a guesser trying many names from one address is."""

    def __init__(
        self, attempts: int = 5, window: float = 300.0, per_address: int | None = None
    ) -> None:
        self.attempts = attempts
        self.per_address = per_address if per_address is not None else 5 * attempts
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def blocked(self, ip: str, name: str) -> float:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = time.monotonic()
        with self._lock:
            wait = 0.0
            for key, limit in (
                (f"ip:{ip}", self.per_address),
                (f"user:{name.casefold()}", self.attempts),
            ):
                q = self._recent(key, now)
                if len(q) >= limit:
                    wait = max(wait, self.window - (now - q[0]))
            return wait

    def failed(self, ip: str, name: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (f"ip:{ip}", f"user:{name.casefold()}"):
                self._recent(key, now).append(now)

    def succeeded(self, ip: str, name: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{name.casefold()}", None)
