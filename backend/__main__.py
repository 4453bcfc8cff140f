"""Command line: `python -m backend migrate` applies migrations; `serve` runs the API."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def migrate() -> None:
    from alembic import command
    from alembic.config import Config

    from backend.core.config import load_settings

    settings = load_settings()
    if settings.database_url.startswith("sqlite"):
        settings.data_path.mkdir(parents=True, exist_ok=True)
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m backend", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations up to the newest")
    serve_parser = commands.add_parser("serve", help="run the API and the built dashboard")
    serve_parser.add_argument("--host", help="address to listen on (default: HOST)")
    serve_parser.add_argument("--port", type=int, help="port to listen on (default: PORT)")
    arguments = parser.parse_args(argv)

    if arguments.command == "migrate":
        migrate()
    else:
        serve(arguments.host, arguments.port)


if __name__ == "__main__":
    main()
