"""Sign-up, sign-in, token rotation and sign-out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import msgspec
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts.models import AccountSettings
from backend.activity.service import record_activity
from backend.auth.models import RefreshSession, User
from backend.auth.passwords import Passwords
from backend.auth.tokens import hash_token, issue_access_token, new_refresh_token, read_access_token
from backend.core.config import Settings
from backend.core.errors import (
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
    RateLimitedError,
    ValidationError,
)
from backend.core.ratelimit import WindowCounter
from backend.templates.service import create_default_template

logger = logging.getLogger(__name__)


MAX_NAME_LENGTH = 200
# Failed sign-ins allowed per email from all addresses together, as a multiple of the
# per-address limit (LOGIN_MAX_FAILURES).
ACCOUNT_FAILURE_FACTOR = 10


def describe_wait(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{round(seconds / 60)} minutes"


class IssuedTokens(msgspec.Struct, frozen=True):
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


def normalize_account_email(raw: str) -> str:
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError(
            f"'{raw}' is not a valid email address: {error}", field="email"
        ) from error
    return result.normalized.lower()


class AuthService:
    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        passwords: Passwords,
        failures: WindowCounter,
    ) -> None:
        self.session = session
        self.settings = settings
        self.passwords = passwords
        self.failures = failures

    async def signup(self, email: str, password: str, name: str) -> tuple[User, IssuedTokens]:
        """Create an account from the public sign-up form and sign it in."""
        if not self.settings.allow_signup:
            logger.warning("sign-up rejected: ALLOW_SIGNUP is false")
            raise PermissionDeniedError(
                "Sign-up is closed on this server. Ask its administrator to create an "
                "account for you."
            )
        user = await self.create_account(email, password, name, commit=False)
        tokens = await self._start_session(user, "")
        record_activity(self.session, user.id, "signed_in", f"Account created for {user.email}.")
        await self._commit_new_account(user.email)
        logger.info("account created", extra={"account_id": str(user.id)})
        return user, tokens

    async def create_account(
        self, email: str, password: str, name: str, *, commit: bool = True
    ) -> User:
        """Create an account with its settings and starter template, signed in nowhere."""
        email = normalize_account_email(email)
        self.passwords.check_strength(password)
        name = name.strip()
        if len(name) > MAX_NAME_LENGTH:
            raise ValidationError(
                f"The name has {len(name):,} characters; use at most {MAX_NAME_LENGTH}.",
                field="name",
            )
        existing = await self.session.scalar(select(User.id).where(User.email == email))
        if existing is not None:
            raise ConflictError(
                f"An account for {email} already exists; sign in instead.", field="email"
            )

        user = User(email=email, name=name, password_hash=await self.passwords.hash(password))
        self.session.add(user)
        await self.session.flush()
        self.session.add(AccountSettings(account_id=user.id))
        await create_default_template(self.session, user.id)
        if commit:
            await self._commit_new_account(email)
        return user

    async def _commit_new_account(self, email: str) -> None:
        try:
            await self.session.commit()
        except IntegrityError as error:
            # Two sign-ups for one email at once: the unique index lets only one through.
            await self.session.rollback()
            raise ConflictError(
                f"An account for {email} already exists; sign in instead.", field="email"
            ) from error

    async def login(
        self, email: str, password: str, user_agent: str, client_address: str
    ) -> tuple[User, IssuedTokens]:
        """Check the password and start a session, throttling repeated failures.

        Failures are counted per email and client address, so someone who has an
        operator's email cannot lock that operator out from another address. A second,
        larger limit per email alone slows a guess spread over many addresses.
        """
        normalized = email.strip().lower()
        address_key = f"login:{normalized}:{client_address}"
        account_key = f"login:{normalized}"
        for key, limit in (
            (address_key, self.settings.login_max_failures),
            (account_key, self.settings.login_max_failures * ACCOUNT_FAILURE_FACTOR),
        ):
            failures, retry_after = await self.failures.count(key)
            if failures >= limit:
                logger.warning(
                    "sign-in throttled", extra={"limit": limit, "retry_after_s": retry_after}
                )
                raise RateLimitedError(
                    f"Too many failed sign-ins for {email.strip()}; try again in "
                    f"{describe_wait(retry_after)}.",
                    retry_after=retry_after,
                )

        user = await self.session.scalar(select(User).where(User.email == normalized))
        matches, needs_rehash = await self.passwords.verify(
            user.password_hash if user else None, password
        )
        if user is None or not matches:
            window = self.settings.login_failure_window_seconds
            await self.failures.increment(address_key, window)
            await self.failures.increment(account_key, window)
            raise AuthenticationError("The email or password is incorrect.")

        # The per-email count is left to expire: a correct password from one address
        # must not reset a guess that is spread over many.
        await self.failures.reset(address_key)
        if needs_rehash:
            user.password_hash = await self.passwords.hash(password)
        tokens = await self._start_session(user, user_agent)
        record_activity(self.session, user.id, "signed_in", f"Signed in as {user.email}.")
        await self.session.commit()
        return user, tokens

    async def refresh(self, refresh_token: str) -> tuple[User, IssuedTokens]:
        now = datetime.now(UTC)
        current = await self.session.scalar(
            select(RefreshSession).where(RefreshSession.token_hash == hash_token(refresh_token))
        )
        if current is None:
            raise AuthenticationError("The refresh token is unknown; sign in again.")
        if current.rotated_at is not None or current.revoked_at is not None:
            # A token that was already exchanged is being replayed: someone else may hold
            # it, so end every session of that sign-in.
            await self._revoke_family(current.family_id, now)
            await self.session.commit()
            logger.warning(
                "refresh token reused; session family revoked",
                extra={"account_id": str(current.user_id), "family_id": str(current.family_id)},
            )
            raise AuthenticationError("This session was ended; sign in again.")
        if current.expires_at <= now:
            raise AuthenticationError("The session has expired; sign in again.")

        # Mark the token used only if no concurrent refresh did so first: of two requests
        # racing with one token, exactly one wins and the other counts as a reuse.
        rotated = await self.session.execute(
            update(RefreshSession)
            .where(
                RefreshSession.id == current.id,
                RefreshSession.rotated_at.is_(None),
                RefreshSession.revoked_at.is_(None),
            )
            .values(rotated_at=now)
        )
        if rotated.rowcount != 1:  # type: ignore[attr-defined]
            await self._revoke_family(current.family_id, now)
            await self.session.commit()
            raise AuthenticationError("This session was ended; sign in again.")
        user = await self.session.get_one(User, current.user_id)
        tokens = await self._issue(user, current.family_id, current.user_agent)
        await self.session.commit()
        return user, tokens

    async def logout(self, family_id: UUID) -> None:
        await self._revoke_family(family_id, datetime.now(UTC))
        await self.session.commit()

    async def logout_all(self, user_id: UUID) -> None:
        await self.session.execute(
            update(RefreshSession)
            .where(RefreshSession.user_id == user_id, RefreshSession.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        await self.session.commit()

    async def authenticate(self, access_token: str) -> tuple[User, UUID]:
        """Return the user and session family of a valid access token whose sign-in is live."""
        user_id, family_id = read_access_token(self.settings.secret_key, access_token)
        live = await self.session.scalar(
            select(RefreshSession.id)
            .where(
                RefreshSession.family_id == family_id,
                RefreshSession.user_id == user_id,
                RefreshSession.revoked_at.is_(None),
            )
            .limit(1)
        )
        if live is None:
            raise AuthenticationError("This session was ended; sign in again.")
        user = await self.session.get(User, user_id)
        if user is None:
            raise AuthenticationError("The account no longer exists.")
        return user, family_id

    async def _start_session(self, user: User, user_agent: str) -> IssuedTokens:
        return await self._issue(user, uuid4(), user_agent)

    async def _issue(self, user: User, family_id: UUID, user_agent: str) -> IssuedTokens:
        now = datetime.now(UTC)
        refresh_token = new_refresh_token()
        refresh_expires_at = now + timedelta(days=self.settings.refresh_token_expire_days)
        self.session.add(
            RefreshSession(
                user_id=user.id,
                family_id=family_id,
                token_hash=hash_token(refresh_token),
                expires_at=refresh_expires_at,
                user_agent=user_agent[:300],
            )
        )
        access_token, access_expires_at = issue_access_token(
            self.settings.secret_key,
            user.id,
            family_id,
            timedelta(minutes=self.settings.access_token_expire_minutes),
        )
        return IssuedTokens(access_token, access_expires_at, refresh_token, refresh_expires_at)

    async def _revoke_family(self, family_id: UUID, now: datetime) -> None:
        await self.session.execute(
            update(RefreshSession)
            .where(RefreshSession.family_id == family_id, RefreshSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
