"""Shifts: who is on duty (read from moderators' sessions) and the notes shifts leave.

A shift note is a moderator's words for the next shift; it is deleted after the
retention period (moderation/__init__.py's hourly purge). Its audit entry says
who wrote a note and when, never the text, so the text goes with the note.
"""

from __future__ import annotations

from sqlalchemy import delete, func
from sqlmodel import Field, Session, SQLModel, col, select

from bridgechat.store.base import StoreBase
from bridgechat.store.moderation import AuditEntry, ModeratorSession


class ShiftNote(SQLModel, table=True):
    __tablename__ = "shift_note"
    id: str = Field(primary_key=True, max_length=32)
    text: str = Field(max_length=2000)
    moderator: str = Field(max_length=64)
    at: float = Field(index=True)


class ShiftStore(StoreBase):
    """Shift notes, and the moderators signed in now."""

    def on_duty(self, now: float, idle: float) -> list[tuple[str, float]]:
        """(username, since) of every moderator with a live session, the longest on duty
        first; `since` is when the oldest of their live sessions began. Only names and
        times are read, never a token's hash."""
        since = func.min(col(ModeratorSession.created))
        with Session(self.engine) as s:
            rows = s.exec(select(col(ModeratorSession.username), since)
                          .where(col(ModeratorSession.expires) > now,
                                 col(ModeratorSession.seen) > now - idle)
                          .group_by(col(ModeratorSession.username))
                          .order_by(since, col(ModeratorSession.username))).all()
            return [(name, float(at)) for name, at in rows]

    def add_shift_note(self, note: ShiftNote, audit: AuditEntry) -> None:
        # expire_on_commit=False: the caller reads the row after it is stored.
        with Session(self.engine, expire_on_commit=False) as s:
            s.add(note)
            s.add(audit)
            s.commit()

    def shift_note(self) -> ShiftNote | None:
        """The newest note."""
        with Session(self.engine) as s:
            return s.exec(select(ShiftNote).order_by(col(ShiftNote.at).desc(),
                                                     col(ShiftNote.id)).limit(1)).first()

    def purge_shift_notes(self, before: float) -> int:
        with Session(self.engine) as s:
            done = s.exec(delete(ShiftNote).where(col(ShiftNote.at) < before))
            s.commit()
            return int(done.rowcount or 0)
