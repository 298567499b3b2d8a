"""Events (a conversation day announced ahead) and the sign-ups for them.

An event names no one. A sign-up holds a token's hash and the member's answers
sealed with the report key (events/desk.py seals them: never a profile value
in clear on disk), and is deleted once its event has ended plus the grace
period (`purge_signups`, run by the events' retention job), or at once when
its event is cancelled.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, LargeBinary, String, delete, func
from sqlmodel import Field, Session, SQLModel, col, select

from bridgechat.store.base import StoreBase
from bridgechat.store.moderation import AuditEntry


class Event(SQLModel, table=True):
    __tablename__ = "event"
    id: str = Field(primary_key=True, max_length=32)
    slug: str = Field(max_length=64, unique=True)
    # language -> text; the deck's languages
    titles: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    descriptions: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    starts: float = Field(index=True)  # UTC epoch seconds
    tz: str = Field(max_length=64)  # an IANA zone name: how the start is shown
    signup_deadline: float
    length_min: int
    prompts: list[str] = Field(default_factory=list, sa_type=JSON)
    mode: str = Field(max_length=32, default="bridge")
    group: int = 2
    invite_hash: str | None = Field(default=None, max_length=64)
    cancelled: bool = False
    created: float

    def ends(self) -> float:
        return self.starts + 60.0 * self.length_min


class Signup(SQLModel, table=True):
    __tablename__ = "signup"
    id: str = Field(primary_key=True, max_length=32)
    event_id: str = Field(sa_column=Column(String(32), ForeignKey("event.id", ondelete="CASCADE"),
                                           nullable=False, index=True))
    token_hash: str = Field(max_length=64, unique=True)
    key_id: str = Field(max_length=32)
    # AES-GCM of the answers (profile, stances, prompts, languages, learning, lang)
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created: float
    changed: float


class EventStore(StoreBase):
    """Events and their sign-ups."""

    def add_event(self, event: Event, audit: AuditEntry | None) -> bool:
        """Store a new event; False if its slug is taken."""
        with Session(self.engine, expire_on_commit=False) as s:
            if s.exec(select(Event.id).where(col(Event.slug) == event.slug)).first():
                return False
            s.add(event)
            if audit is not None:
                s.add(audit)
            s.commit()
            return True

    def event(self, event_id: str) -> Event | None:
        with Session(self.engine) as s:
            return s.get(Event, event_id)

    def event_by_slug(self, slug: str) -> Event | None:
        with Session(self.engine) as s:
            return s.exec(select(Event).where(col(Event.slug) == slug)).first()

    def events(self, ending_after: float | None = None) -> list[Event]:
        """Events by start time, the earliest first; with `ending_after`, only those not
        ended by then."""
        q = select(Event).order_by(col(Event.starts), col(Event.slug))
        if ending_after is not None:
            q = q.where(col(Event.starts) + 60.0 * col(Event.length_min) > ending_after)
        with Session(self.engine) as s:
            return list(s.exec(q).all())

    def update_event(self, event_id: str, changes: dict[str, Any],
                     audit: AuditEntry | None) -> Event | None:
        """Apply `changes` (column -> value); None if there is no such event. Cancelling
        (cancelled=True) deletes the event's sign-ups in the same transaction."""
        with Session(self.engine, expire_on_commit=False) as s:
            event = s.get(Event, event_id)
            if event is None:
                return None
            for k, v in changes.items():
                setattr(event, k, v)
            s.add(event)
            if changes.get("cancelled"):
                s.exec(delete(Signup).where(col(Signup.event_id) == event_id))
            if audit is not None:
                s.add(audit)
            s.commit()
            return event

    def add_signup(self, signup: Signup) -> None:
        with Session(self.engine) as s:
            s.add(signup)
            s.commit()

    def signup(self, event_id: str, token_hash: str) -> Signup | None:
        with Session(self.engine) as s:
            return s.exec(select(Signup).where(col(Signup.token_hash) == token_hash,
                                               col(Signup.event_id) == event_id)).first()

    def signups(self, event_id: str) -> list[Signup]:
        with Session(self.engine) as s:
            return list(s.exec(select(Signup).where(col(Signup.event_id) == event_id)
                               .order_by(col(Signup.created), col(Signup.id))).all())

    def signup_count(self, event_id: str) -> int:
        with Session(self.engine) as s:
            return int(s.exec(select(func.count()).select_from(Signup)
                              .where(col(Signup.event_id) == event_id)).one())

    def change_signup(self, signup_id: str, key_id: str, sealed: bytes, at: float) -> bool:
        with Session(self.engine) as s:
            row = s.get(Signup, signup_id)
            if row is None:
                return False
            row.key_id, row.sealed, row.changed = key_id, sealed, at
            s.add(row)
            s.commit()
            return True

    def delete_signup(self, signup_id: str) -> bool:
        with Session(self.engine) as s:
            done = s.exec(delete(Signup).where(col(Signup.id) == signup_id))
            s.commit()
            return bool(done.rowcount)

    def purge_signups(self, ended_before: float) -> int:
        """Delete the sign-ups of every event that ended before `ended_before`."""
        ended = select(Event.id).where(
            col(Event.starts) + 60.0 * col(Event.length_min) < ended_before)
        with Session(self.engine) as s:
            done = s.exec(delete(Signup).where(col(Signup.event_id).in_(ended)))
            s.commit()
            return int(done.rowcount or 0)
