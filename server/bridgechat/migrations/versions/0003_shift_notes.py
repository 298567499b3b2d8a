"""shift notes: the note a moderators' shift leaves for the next

Revision ID: shift_notes
Revises: report_life
Create Date: 2026-12-03 06:31:50.441935
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "shift_notes"
down_revision: str | Sequence[str] | None = "report_life"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shift_note",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("moderator", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("shift_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shift_note_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shift_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shift_note_at"))
    op.drop_table("shift_note")
