"""Saving uploaded files under DATA_DIR with a size limit."""

from __future__ import annotations

import re
from pathlib import Path
from uuid import UUID, uuid4

from litestar.datastructures import UploadFile

from backend.core.config import Settings
from backend.core.errors import PayloadTooLargeError, ValidationError

CHUNK_BYTES = 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    return (_UNSAFE.sub("_", base).strip("._") or "upload")[:120]


async def save_upload(
    upload: UploadFile, settings: Settings, account_id: UUID
) -> tuple[Path, str, int]:
    """Stream the upload to disk; return (path, original file name, size in bytes)."""
    filename = upload.filename or "upload"
    limit = settings.upload_max_mb * 1024 * 1024
    directory = settings.uploads_dir / str(account_id)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid4().hex}-{safe_filename(filename)}"
    size = 0
    try:
        with path.open("wb") as target:
            while chunk := await upload.read(CHUNK_BYTES):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLargeError(
                        f"{filename} is larger than the upload limit of "
                        f"{settings.upload_max_mb} MB; "
                        "split the file or raise UPLOAD_MAX_MB."
                    )
                target.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        await upload.close()
    if size == 0:
        path.unlink(missing_ok=True)
        raise ValidationError(
            f"{filename} is empty; choose a file with a header row and contacts.", field="file"
        )
    return path, filename, size
