"""recipient request keys

Revision ID: c51e0a7d9f21
Revises: 34caebe3cc2d
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = 'c51e0a7d9f21'
down_revision: str | None = '34caebe3cc2d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


PENDING_REQUEST_SQL = "request_key IS NOT NULL AND status IN ('queued', 'processing')"


def upgrade() -> None:
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'request_key', advanced_alchemy.types.guid.GUID(length=16), nullable=True
            )
        )
        batch_op.create_index(
            'ix_recipients_pending_request',
            ['batch_id', 'request_key'],
            unique=False,
            postgresql_where=sa.text(PENDING_REQUEST_SQL),
            sqlite_where=sa.text(PENDING_REQUEST_SQL),
        )


def downgrade() -> None:
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_recipients_pending_request')
        batch_op.drop_column('request_key')
