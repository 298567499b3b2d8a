"""record event: a conversation record names the event whose lobby opened its room

Revision ID: record_event
Revises: events
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "record_event"
down_revision: str | Sequence[str] | None = "events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: every record made before this revision was of the open queue.
    with op.batch_alter_table("conversation_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_conversation_record_event"), ["event"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conversation_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_record_event"))
        batch_op.drop_column("event")
