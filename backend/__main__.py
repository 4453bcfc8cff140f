"""Command line: `migrate` applies migrations, `serve` runs the API, `create-account` adds one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from backend.core.config import Settings

ROOT = Path(__file__).resolve().parent.parent
CHECK_TIMEOUT_SECONDS = 5.0


def check_dependencies(settings: Settings) -> None:
    """Exit with one line naming the setting to fix when the database or Redis is unreachable.

    Without this, uvicorn prints a long traceback from the app's start-up instead.
    """
    import asyncio

    from redis.asyncio import Redis
    from sqlalchemy import make_url, text

    from backend.core.database import create_engine

    async def probe() -> str | None:
        engine = create_engine(settings)
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            shown = make_url(settings.database_url).render_as_string(hide_password=True)
            return (
                f"Cannot reach the database at {shown} ({_describe(error)}). Start it, or fix "
                "DATABASE_URL."
            )
        finally:
            await engine.dispose()
        if not settings.uses_redis:
            return None
        redis = Redis.from_url(settings.redis_url)
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                await redis.ping()
        except Exception as error:
            return (
                f"Cannot reach Redis at {_hide_password(settings.redis_url)} "
                f"({_describe(error)}). Start it, or fix REDIS_URL."
            )
        finally:
            await redis.aclose()
        return None

    problem = asyncio.run(probe())
    if problem is not None:
        sys.exit(problem)


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {CHECK_TIMEOUT_SECONDS:.0f} s"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def migrate() -> None:
    from alembic import command
    from alembic.config import Config

    from backend.core.config import load_settings

    settings = load_settings()
    if settings.database_url.startswith("sqlite"):
        settings.data_path.mkdir(parents=True, exist_ok=True)
    else:
        check_dependencies(settings)
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = settings.database_url
    command.upgrade(config, "head")


def serve(host: str | None, port: int | None) -> None:
    import uvicorn

    from backend.core.config import ConfigError, load_settings, resolve_secret_key

    try:
        settings = resolve_secret_key(load_settings())
    except ConfigError as error:
        sys.exit(f"Configuration error: {error}")
    check_dependencies(settings)
    print(f"CCA Campaign Manager on {settings.web_origin} (data in {settings.data_path.resolve()})")
    uvicorn.run(
        "backend.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        proxy_headers=True,
        log_level=settings.log_level.lower(),
        ws="websockets-sansio",
    )


def create_account(email: str, name: str) -> None:
    """Create an account from the command line, even with ALLOW_SIGNUP=false."""
    import asyncio
    import getpass

    from backend.auth.passwords import Passwords
    from backend.auth.service import AuthService
    from backend.core.config import load_settings
    from backend.core.database import Database, create_engine
    from backend.core.errors import AppError
    from backend.core.ratelimit import MemoryWindowCounter

    if sys.stdin.isatty():
        password = getpass.getpass("Password (at least 10 characters): ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    settings = load_settings()

    async def create() -> str:
        database = Database(create_engine(settings))
        passwords = Passwords(
            time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib
        )
        try:
            async with database.session() as session:
                service = AuthService(session, settings, passwords, MemoryWindowCounter())
                user = await service.create_account(email, password, name)
                return user.email
        finally:
            await database.dispose()

    try:
        created = asyncio.run(create())
    except AppError as error:
        sys.exit(f"Could not create the account: {error}")
    print(f"Created the account {created}; sign in with it on the dashboard.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m backend", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations up to the newest")
    serve_parser = commands.add_parser("serve", help="run the API and the built dashboard")
    serve_parser.add_argument("--host", help="address to listen on (default: HOST)")
    serve_parser.add_argument("--port", type=int, help="port to listen on (default: PORT)")
    account_parser = commands.add_parser(
        "create-account",
        help="create an account; the password is read from the terminal or standard input",
    )
    account_parser.add_argument("email", help="the account's email address")
    account_parser.add_argument("--name", default="", help="the name shown in the dashboard")
    arguments = parser.parse_args(argv)

    if arguments.command == "migrate":
        migrate()
    elif arguments.command == "create-account":
        create_account(arguments.email, arguments.name)
    else:
        serve(arguments.host, arguments.port)


if __name__ == "__main__":
    main()
