"""Litestar dependencies shared by every domain's routes."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from backend.core.state import AppServices


async def provide_db_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    services: AppServices = state.services
    async with services.database.session() as session:
        yield session


def provide_services(state: State) -> AppServices:
    services: AppServices = state.services
    return services


DbSession = NamedDependency[AsyncSession]
Services = NamedDependency[AppServices]
