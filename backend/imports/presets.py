"""Mapping presets: saved column mappings suggested again for files with the same headers.

On upload, a preset whose columns equal the file's columns wins. Otherwise the mapping of the
account's latest earlier import with the same columns is reused. Columns are compared trimmed
and case-insensitively, in any order.
"""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

import msgspec
from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import JsonB
from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from backend.auth.guards import Account
from backend.core.dependencies import DbSession
from backend.core.errors import ConflictError, NotFoundError, ValidationError
from backend.imports.models import Import
from backend.templates.models import TemplateVersion
from backend.templates.service import fields_from_json

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 100
# NOTE: reuse looks at this many of the account's latest imports with a mapping, so an
# older import with the same columns is not found. Presets have no such limit.
REUSE_LOOKBACK = 200


class MappingPreset(UUIDv7AuditBase):
    """A named mapping of an account: which column fills which merge field, keyed by headers."""

    __tablename__ = "mapping_presets"
    __table_args__ = (
        UniqueConstraint("account_id", "name", name="uq_mapping_presets_account_name"),
        Index("ix_mapping_presets_account", "account_id", "id"),
    )

    account_id: Mapped[UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    columns: Mapped[list[str]] = mapped_column(JsonB, default=list)
    # Merge field name -> column header as written in the file the preset was saved from.
    mapping: Mapped[dict[str, str | None]] = mapped_column(JsonB, default=dict)
    keep_unmapped: Mapped[bool] = mapped_column(default=False)


def column_key(column: str) -> str:
    return column.strip().casefold()


def same_columns(left: list[str], right: list[str]) -> bool:
    """Compare two header lists trimmed and case-insensitively, in any order."""
    return sorted(map(column_key, left)) == sorted(map(column_key, right))


def translate_mapping(
    field_to_column: dict[str, str | None], columns: list[str], field_names: list[str] | None
) -> dict[str, str | None]:
    """Turn a saved field -> column mapping into a column -> field suggestion for `columns`.

    Saved columns are matched to the file's headers by their trimmed, case-insensitive form.
    With `field_names`, fields that the chosen template version lacks are left out.
    """
    by_key = {column_key(column): column for column in columns}
    suggestion: dict[str, str | None] = dict.fromkeys(columns)
    for field, saved_column in field_to_column.items():
        if saved_column is None or (field_names is not None and field not in field_names):
            continue
        column = by_key.get(column_key(saved_column))
        if column is not None and suggestion[column] is None:
            suggestion[column] = field
    return suggestion


def invert_mapping(column_to_field: dict[str, str | None]) -> dict[str, str | None]:
    return {field: column for column, field in column_to_field.items() if field is not None}


async def apply_saved_mapping(
    session: AsyncSession, import_: Import, field_names: list[str] | None
) -> None:
    """Replace the header-name suggestion of a new import with a preset's or an earlier mapping.

    A preset with the same columns wins and also sets keep_unmapped. Otherwise the latest
    earlier import of the account with the same columns and a confirmed mapping is reused.
    Without either, the import keeps the suggestion it has.
    """
    presets = await session.scalars(
        select(MappingPreset)
        .where(MappingPreset.account_id == import_.account_id)
        .order_by(MappingPreset.created_at.desc(), MappingPreset.id.desc())
    )
    for preset in presets:
        if same_columns(preset.columns, import_.columns):
            import_.suggested_mapping = translate_mapping(
                preset.mapping, import_.columns, field_names
            )
            import_.keep_unmapped = preset.keep_unmapped
            import_.preset = preset
            return

    earlier = await session.execute(
        select(Import.id, Import.columns, Import.mapping)
        .where(Import.account_id == import_.account_id)
        .order_by(Import.created_at.desc(), Import.id.desc())
        .limit(REUSE_LOOKBACK)
    )
    for earlier_id, columns, mapping in earlier.tuples():
        # A JSON null and SQL NULL both mean "not confirmed", so the check is done here.
        if not mapping or not any(mapping.values()) or not same_columns(columns, import_.columns):
            continue
        import_.suggested_mapping = translate_mapping(
            invert_mapping(mapping), import_.columns, field_names
        )
        import_.reused_from = earlier_id
        return


class PresetOut(msgspec.Struct):
    id: UUID
    name: str
    columns: list[str]
    mapping: dict[str, str | None]
    keep_unmapped: bool
    created_at: datetime

    @classmethod
    def of(cls, preset: MappingPreset) -> PresetOut:
        return cls(
            preset.id,
            preset.name,
            preset.columns,
            preset.mapping,
            preset.keep_unmapped,
            preset.created_at,
        )


class PresetList(msgspec.Struct):
    items: list[PresetOut]


class PresetBody(msgspec.Struct):
    name: str
    import_id: UUID


class PresetService:
    def __init__(self, session: AsyncSession, account_id: UUID) -> None:
        self.session = session
        self.account_id = account_id

    async def list(self) -> list[MappingPreset]:
        rows = await self.session.scalars(
            select(MappingPreset)
            .where(MappingPreset.account_id == self.account_id)
            .order_by(MappingPreset.name)
        )
        return list(rows.all())

    async def get(self, preset_id: UUID) -> MappingPreset:
        preset = await self.session.scalar(
            select(MappingPreset).where(
                MappingPreset.id == preset_id, MappingPreset.account_id == self.account_id
            )
        )
        if preset is None:
            raise NotFoundError(f"Mapping preset {preset_id} was not found.")
        return preset

    async def create(self, name: str, import_id: UUID) -> MappingPreset:
        """Save the confirmed mapping of an import under a name that is new in the account."""
        name = self._check_name(name)
        import_ = await self.session.scalar(
            select(Import).where(Import.id == import_id, Import.account_id == self.account_id)
        )
        if import_ is None:
            raise NotFoundError(f"Import {import_id} was not found.", field="import_id")
        if not import_.mapping:
            raise ConflictError(
                f"Import {import_.filename} has no confirmed mapping yet. Confirm its column "
                "mapping before saving it as a preset.",
                field="import_id",
            )
        await self._check_name_free(name)

        preset = MappingPreset(
            account_id=self.account_id,
            name=name,
            columns=list(import_.columns),
            mapping=await self._field_mapping(import_),
            keep_unmapped=import_.keep_unmapped,
        )
        self.session.add(preset)
        try:
            await self.session.commit()
        except IntegrityError as error:
            # Two requests saved the same name at once; the unique constraint kept one.
            await self.session.rollback()
            raise self._name_taken(name) from error
        logger.info("mapping preset saved", extra={"preset_id": str(preset.id)})
        return preset

    async def delete(self, preset_id: UUID) -> None:
        preset = await self.get(preset_id)
        await self.session.delete(preset)
        await self.session.commit()

    async def _field_mapping(self, import_: Import) -> dict[str, str | None]:
        """Return field -> column, with the template version's unmapped fields as null."""
        mapping = invert_mapping(import_.mapping or {})
        if import_.template_version_id is not None:
            fields = await self.session.scalar(
                select(TemplateVersion.fields).where(
                    TemplateVersion.id == import_.template_version_id
                )
            )
            for spec in fields_from_json(fields or []):
                mapping.setdefault(spec.name, None)
        return mapping

    @staticmethod
    def _check_name(name: str) -> str:
        name = name.strip()
        if not name:
            raise ValidationError(
                "The preset name is empty; give it a name such as 'Mailchimp export'.",
                field="name",
            )
        if len(name) > NAME_MAX_LENGTH:
            raise ValidationError(
                f"The preset name has {len(name)} characters; use at most {NAME_MAX_LENGTH}.",
                field="name",
            )
        return name

    async def _check_name_free(self, name: str) -> None:
        existing = await self.session.scalar(
            select(MappingPreset.name)
            .where(MappingPreset.account_id == self.account_id)
            # Compared case-insensitively so "Mailchimp" and "mailchimp" are not both saved.
            .where(func.lower(MappingPreset.name) == name.lower())
        )
        if existing is not None:
            raise self._name_taken(existing)

    @staticmethod
    def _name_taken(name: str) -> ConflictError:
        return ConflictError(
            f"A mapping preset named '{name}' already exists; choose another name or delete "
            "that preset first.",
            field="name",
        )


class MappingPresetController(Controller):
    path = "/api/v1/mapping-presets"
    tags = ["imports"]

    @get("/")
    async def list_presets(self, db_session: DbSession, account: Account) -> PresetList:
        presets = await PresetService(db_session, account.id).list()
        return PresetList([PresetOut.of(preset) for preset in presets])

    @post("/", status_code=HTTP_201_CREATED)
    async def create_preset(
        self, db_session: DbSession, account: Account, data: JSONBody[PresetBody]
    ) -> PresetOut:
        preset = await PresetService(db_session, account.id).create(data.name, data.import_id)
        return PresetOut.of(preset)

    @delete("/{preset_id:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def delete_preset(
        self, db_session: DbSession, account: Account, preset_id: FromPath[UUID]
    ) -> None:
        await PresetService(db_session, account.id).delete(preset_id)
