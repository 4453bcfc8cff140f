"""`python -m backend` stops with one clear line when the database or Redis is unreachable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SECRET = "command-line-test-secret-0123456789-abcdefghijklmnop"


def run_backend(
    tmp_path: Path, *arguments: str, **environ: str
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SECRET_KEY=SECRET, DATA_DIR=str(tmp_path / "data"), REDIS_URL="")
    env.update(environ)
    return subprocess.run(
        [sys.executable, "-m", "backend", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_names_unreachable_database(tmp_path: Path) -> None:
    # Nothing listens on the discard port, so the connection is refused.
    result = run_backend(
        tmp_path,
        "serve",
        "--port",
        "9",
        DATABASE_URL="postgresql://ops:hunter2@127.0.0.1:9/campaigns",
    )

    assert result.returncode == 1
    assert "Cannot reach the database at postgresql+asyncpg://ops:***@127.0.0.1:9/campaigns" in (
        result.stderr
    )
    assert "fix DATABASE_URL" in result.stderr
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_names_unreachable_redis(tmp_path: Path) -> None:
    result = run_backend(
        tmp_path,
        "serve",
        "--port",
        "9",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/campaigns.db",
        REDIS_URL="redis://:hunter2@127.0.0.1:9/0",
    )

    assert result.returncode == 1
    assert "Cannot reach Redis at redis://:***@127.0.0.1:9/0" in result.stderr
    assert "fix REDIS_URL" in result.stderr
    assert "hunter2" not in result.stderr


def test_migrate_names_unreachable_database(tmp_path: Path) -> None:
    result = run_backend(tmp_path, "migrate", DATABASE_URL="postgresql://ops@127.0.0.1:9/campaigns")

    assert result.returncode == 1
    assert "Cannot reach the database" in result.stderr
    assert "Traceback" not in result.stderr
