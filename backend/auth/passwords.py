"""Password hashing: Argon2id, with verification of legacy bcrypt hashes.

Argon2 with its defaults (t=3, m=64 MiB, p=4) takes about 130 ms on a 2-core machine, so
hashing and verifying run in a worker thread instead of blocking the event loop.
"""

from __future__ import annotations

import asyncio

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from backend.core.errors import ValidationError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")


class Passwords:
    def __init__(self, *, time_cost: int, memory_kib: int) -> None:
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=2)
        # Verifying against this hash when the email is unknown makes a failed login take
        # as long as a wrong password, so response time does not reveal which emails exist.
        self._dummy_hash = self.hasher.hash("dummy password for timing")

    @staticmethod
    def check_strength(password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationError(
                f"The password has {len(password)} characters; use at least {MIN_PASSWORD_LENGTH}.",
                field="password",
            )
        if not password.strip():
            raise ValidationError(
                "The password is only spaces; use letters, digits or symbols.", field="password"
            )
        if len(password) > MAX_PASSWORD_LENGTH:
            raise ValidationError(
                f"The password is longer than {MAX_PASSWORD_LENGTH} characters.",
                field="password",
            )

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> tuple[bool, bool]:
        """Return (matches, needs_rehash). A bcrypt hash that matches always needs a rehash."""
        return await asyncio.to_thread(self._verify, stored_hash, password)

    def _verify(self, stored_hash: str | None, password: str) -> tuple[bool, bool]:
        if stored_hash is None:
            self._argon2_matches(self._dummy_hash, password)
            return False, False
        if stored_hash.startswith(BCRYPT_PREFIXES):
            # bcrypt reads at most 72 bytes; longer passwords were cut the same way when hashed.
            candidate = password.encode("utf-8")[:72]
            try:
                return bcrypt.checkpw(candidate, stored_hash.encode("ascii")), True
            except ValueError:
                return False, False
        if not self._argon2_matches(stored_hash, password):
            return False, False
        return True, self.hasher.check_needs_rehash(stored_hash)

    def _argon2_matches(self, stored_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
