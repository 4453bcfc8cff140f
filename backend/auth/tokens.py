"""Access tokens (short-lived signed JWTs) and refresh tokens (random, stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt

from backend.core.errors import AuthenticationError

ALGORITHM = "HS256"
ACCESS_AUDIENCE = "cca:access"


def issue_access_token(
    secret_key: str, user_id: UUID, family_id: UUID, lifetime: timedelta
) -> tuple[str, datetime]:
    now = datetime.now(UTC)
    expires_at = now + lifetime
    claims = {
        "sub": str(user_id),
        "sid": str(family_id),
        "aud": ACCESS_AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(claims, secret_key, algorithm=ALGORITHM), expires_at


def read_access_token(secret_key: str, token: str) -> tuple[UUID, UUID]:
    """Return (user id, session family id) or raise AuthenticationError."""
    try:
        claims = jwt.decode(token, secret_key, algorithms=[ALGORITHM], audience=ACCESS_AUDIENCE)
        return UUID(claims["sub"]), UUID(claims["sid"])
    except jwt.ExpiredSignatureError as error:
        raise AuthenticationError("The session has expired; sign in again.") from error
    except (jwt.InvalidTokenError, KeyError, ValueError) as error:
        raise AuthenticationError("The access token is invalid; sign in again.") from error


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # Refresh tokens carry 256 random bits, so a plain SHA-256 is enough: there is nothing
    # to brute-force that a slow hash would protect.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
