"""Every model, imported in one place so Alembic and the app see the full metadata."""

from advanced_alchemy.base import orm_registry

from backend.accounts.models import AccountSettings
from backend.activity.models import ActivityEvent
from backend.auth.models import RefreshSession, User
from backend.batches.models import Batch, Recipient
from backend.contacts.models import Contact
from backend.imports.models import Import, ImportRowError
from backend.imports.presets import MappingPreset
from backend.templates.models import Template, TemplateVersion
from backend.webhooks.models import ProviderEvent

metadata = orm_registry.metadata

__all__ = [
    "AccountSettings",
    "ActivityEvent",
    "Batch",
    "Contact",
    "Import",
    "ImportRowError",
    "MappingPreset",
    "ProviderEvent",
    "Recipient",
    "RefreshSession",
    "Template",
    "TemplateVersion",
    "User",
    "metadata",
]
