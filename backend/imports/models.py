from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from advanced_alchemy.base import BigIntBase, UUIDv7AuditBase
from advanced_alchemy.types import DateTimeUTC, JsonB
from sqlalchemy import ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from backend.imports.presets import MappingPreset


def _mapping_preset_class() -> type[MappingPreset]:
    """Import the preset model when mappers are configured; presets.py imports this module."""
    from backend.imports.presets import MappingPreset

    return MappingPreset


class Import(UUIDv7AuditBase):
    """An uploaded contact file, what was detected in it, its mapping and its validation."""

    __tablename__ = "imports"
    __table_args__ = (Index("ix_imports_account", "account_id", "id"),)

    account_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default="uploaded")
    format: Mapped[str] = mapped_column(String(10))
    encoding: Mapped[str | None] = mapped_column(String(20), default=None)
    delimiter: Mapped[str | None] = mapped_column(String(2), default=None)
    sheets: Mapped[list[str]] = mapped_column(JsonB, default=list)
    sheet: Mapped[str | None] = mapped_column(String(255), default=None)
    header_row: Mapped[int] = mapped_column(default=1)
    columns: Mapped[list[str]] = mapped_column(JsonB, default=list)
    sample_rows: Mapped[list[list[str]]] = mapped_column(JsonB, default=list)
    suggested_mapping: Mapped[dict[str, str | None]] = mapped_column(JsonB, default=dict)
    mapping: Mapped[dict[str, str | None] | None] = mapped_column(JsonB, default=None)
    template_version_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("template_versions.id", ondelete="SET NULL"), default=None
    )
    validation: Mapped[dict[str, Any] | None] = mapped_column(JsonB, default=None)
    batch_id: Mapped[UUID | None] = mapped_column(default=None)
    # Store columns mapped to no merge field as contact attributes when staging.
    keep_unmapped: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Why the last job failed, with the fix; "" unless status is "failed".
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    progress: Mapped[dict[str, Any] | None] = mapped_column(JsonB, default=None)
    # The validation or staging job allowed to write to this import. A new start or a cancel
    # changes it or the status, and an older job stops at its next chunk.
    job_id: Mapped[UUID | None] = mapped_column(default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    # The saved preset, or the earlier import, whose mapping became suggested_mapping.
    preset_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("mapping_presets.id", ondelete="SET NULL"), default=None
    )
    preset: Mapped[MappingPreset | None] = relationship(_mapping_preset_class, lazy="selectin")
    reused_from: Mapped[UUID | None] = mapped_column(default=None)


class ImportRowError(BigIntBase):
    """One problem row found by validation, kept for the paginated error report."""

    __tablename__ = "import_row_errors"
    __table_args__ = (Index("ix_import_row_errors_import", "import_id", "row_number"),)

    import_id: Mapped[UUID] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    row_number: Mapped[int]
    column: Mapped[str | None] = mapped_column(String(255), default=None)
    value: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)
