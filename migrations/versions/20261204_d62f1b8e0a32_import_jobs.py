"""import jobs

Revision ID: d62f1b8e0a32
Revises: c51e0a7d9f21
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'd62f1b8e0a32'
down_revision: str | None = 'c51e0a7d9f21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Validation and staging run as background jobs: the import row stores the running job's
    # id (a fence against an older job of the same import), its heartbeat, its progress and
    # the error that ended it. Batches gain the hidden status "staging", which needs no
    # schema change because batches.status is a plain string column.
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keep_unmapped', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('progress', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('job_id', advanced_alchemy.types.guid.GUID(length=16), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('job_id')
        batch_op.drop_column('progress')
        batch_op.drop_column('error')
        batch_op.drop_column('keep_unmapped')
