"""Conversation records for aggregate figures, and the retention sweeps of members.

A record says that a conversation happened: its prompt, its day, how many
took part, which divides it crossed (dimension names, never anyone's
bucket), how long it lasted (a coarse bucket, not seconds) and the feedback
its members gave, folded into three sums. It has no member id, no room id,
no alias and no text, so it cannot be linked to a person or put in a
member's export; docs/privacy.md lists it field by field.

Feedback is kept as sums on the record, not one row per answer: the
figures we publish need no more, and an answer that is never stored on its
own can never be singled out.
"""

from __future__ import annotations

import secrets

from sqlmodel import Field, Session, SQLModel, col, select

from bridgechat.privacy.impact import Conversation
from bridgechat.store.base import StoreBase
from bridgechat.store.members import Member

MAX_DIVIDES = 32


class ConversationRecord(SQLModel, table=True):
    __tablename__ = "conversation_record"
    id: str = Field(primary_key=True, max_length=32)
    prompt: str = Field(max_length=64)
    day: str = Field(index=True, max_length=10)  # ISO date, UTC
    size: int
    # Dimension ids crossed, sorted, joined with "\n" (ids never contain one).
    divides: str = Field(default="", max_length=2048)
    duration: str = Field(max_length=8)  # a bucket from bridgechat.privacy.impact.DURATIONS
    feedback: int = 0  # answers received
    common_ground: int = 0  # sum of their 1-5 scores
    again: int = 0  # answers that said "meet again"
    # The slug of the event whose lobby opened the room (None: the open queue). Names an
    # announced public event, never a person: it lets the figures be asked per event.
    event: str | None = Field(default=None, index=True, max_length=64)


class RecordStore(StoreBase):
    """Conversation records, and the member sweeps of the retention job."""

    # -- records ----------------------------------------------------------------

    def add_record(self, prompt: str, day: str, size: int, divides: tuple[str, ...],
                   duration: str, event: str | None = None) -> str:
        """Store one record and return its random id (the node keeps it for feedback)."""
        names = sorted({d for d in divides if d and "\n" not in d})[:MAX_DIVIDES]
        record_id = secrets.token_urlsafe(12)
        with Session(self.engine) as s:
            s.add(ConversationRecord(id=record_id, prompt=prompt, day=day, size=size,
                                     divides="\n".join(names), duration=duration,
                                     event=event or None))
            s.commit()
        return record_id

    def add_feedback(self, record_id: str, common_ground: int, again: bool) -> bool:
        """Fold one answer into its record's sums; False if the record is gone."""
        with Session(self.engine) as s:
            rec = s.get(ConversationRecord, record_id)
            if rec is None:
                return False
            rec.feedback += 1
            rec.common_ground += common_ground
            rec.again += int(again)
            s.add(rec)
            s.commit()
            return True

    def conversations(self, event: str | None = None) -> list[Conversation]:
        """Every record (with `event`, only that event's), as the plain values the aggregate
        code works on."""
        query = select(ConversationRecord)
        if event is not None:
            query = query.where(col(ConversationRecord.event) == event)
        with Session(self.engine) as s:
            rows = s.exec(query.order_by(col(ConversationRecord.day))).all()
            return [Conversation(
                prompt=r.prompt, day=r.day, size=r.size,
                divides=tuple(r.divides.split("\n")) if r.divides else (),
                duration=r.duration, feedback=r.feedback, common_ground=r.common_ground,
                again=r.again, event=r.event) for r in rows]

    # -- retention --------------------------------------------------------------

    def inactive_members(self, seen_before: str) -> list[str]:
        """Ids of members last seen on a day before `seen_before` (ISO date)."""
        with Session(self.engine) as s:
            return list(s.exec(select(Member.id).where(col(Member.seen_day) < seen_before)).all())
