"""mapping presets

Revision ID: e7304c9f1b43
Revises: d62f1b8e0a32
Create Date: 2026-12-05 00:00:00
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'e7304c9f1b43'
down_revision: str | None = 'd62f1b8e0a32'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return (
        sa.JSON()
        .with_variant(postgresql.JSONB(astext_type=sa.Text()), 'cockroachdb')
        .with_variant(advanced_alchemy.types.json.ORA_JSONB(), 'oracle')
        .with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
    )


def upgrade() -> None:
    op.create_table(
        'mapping_presets',
        sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column('account_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('columns', _json(), nullable=False),
        sa.Column('mapping', _json(), nullable=False),
        sa.Column('keep_unmapped', sa.Boolean(), nullable=False),
        sa.Column('sa_orm_sentinel', sa.Integer(), nullable=True),
        sa.Column('created_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column('updated_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['users.id'], name=op.f('fk_mapping_presets_account_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mapping_presets')),
        sa.UniqueConstraint('account_id', 'name', name='uq_mapping_presets_account_name'),
    )
    with op.batch_alter_table('mapping_presets', schema=None) as batch_op:
        batch_op.create_index('ix_mapping_presets_account', ['account_id', 'id'], unique=False)

    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preset_id', advanced_alchemy.types.guid.GUID(length=16), nullable=True))
        batch_op.add_column(sa.Column('reused_from', advanced_alchemy.types.guid.GUID(length=16), nullable=True))
        batch_op.create_foreign_key(
            op.f('fk_imports_preset_id_mapping_presets'),
            'mapping_presets',
            ['preset_id'],
            ['id'],
            ondelete='SET NULL',
        )


def downgrade() -> None:
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_imports_preset_id_mapping_presets'), type_='foreignkey')
        batch_op.drop_column('reused_from')
        batch_op.drop_column('preset_id')

    with op.batch_alter_table('mapping_presets', schema=None) as batch_op:
        batch_op.drop_index('ix_mapping_presets_account')

    op.drop_table('mapping_presets')
