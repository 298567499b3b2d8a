"""Members (a random id and a hash of their token), blocks, and prompts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, or_, select

from bridgechat.core.deck import Prompt
from bridgechat.store.base import StoreBase
from bridgechat.store.moderation import AuditEntry


class Member(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    # Days, not instants: enough for retention, too coarse to track anyone.
    created_day: str = Field(max_length=10)
    seen_day: str = Field(max_length=10)
    suspended_until: float | None = None


class Block(SQLModel, table=True):
    blocker: str = Field(primary_key=True, max_length=64)
    blocked: str = Field(primary_key=True, max_length=64, index=True)


class PromptRow(SQLModel, table=True):
    __tablename__ = "prompt"
    id: str = Field(primary_key=True, max_length=64)
    text: str = Field(max_length=500)
    lang: str = Field(default="en", max_length=35)
    active: bool = True


def hash_token(token: str) -> str:
    """Tokens are 256-bit random secrets, so a plain SHA-256 cannot be brute-forced."""
    return hashlib.sha256(token.encode()).hexdigest()


class MemberStore(StoreBase):
    """Members, blocks and prompts."""

    # -- members --------------------------------------------------------------

    def create_member(self, member_id: str, token_hash: str, day: str) -> None:
        with Session(self.engine) as s:
            s.add(Member(id=member_id, token_hash=token_hash, created_day=day, seen_day=day))
            s.commit()

    def member_by_token(self, token_hash: str) -> Member | None:
        with Session(self.engine) as s:
            return s.exec(select(Member).where(Member.token_hash == token_hash)).first()

    def touch_member(self, member_id: str, day: str) -> None:
        with Session(self.engine) as s:
            m = s.get(Member, member_id)
            if m is not None and m.seen_day != day:
                m.seen_day = day
                s.add(m)
                s.commit()

    def set_suspension(self, member_id: str, until: float | None) -> bool:
        """Suspend until a time (inf: indefinitely) or lift it with None."""
        with Session(self.engine) as s:
            m = s.get(Member, member_id)
            if m is None:
                return False
            m.suspended_until = until
            s.add(m)
            s.commit()
            return True

    def erase_member(self, member_id: str) -> None:
        """Delete the member and every block naming them (Art. 17)."""
        with Session(self.engine) as s:
            for b in s.exec(select(Block).where(
                or_(col(Block.blocker) == member_id, col(Block.blocked) == member_id)
            )).all():
                s.delete(b)
            m = s.get(Member, member_id)
            if m is not None:
                s.delete(m)
            s.commit()

    def export_member(self, member_id: str) -> dict[str, object] | None:
        """Everything the store holds about one member (Art. 20)."""
        with Session(self.engine) as s:
            m = s.get(Member, member_id)
            if m is None:
                return None
            blocked = s.exec(select(Block).where(col(Block.blocker) == member_id)).all()
            return {
                "member": m.id, "created_day": m.created_day, "seen_day": m.seen_day,
                "suspended_until": m.suspended_until, "token": "not kept (only its SHA-256 hash)",
                "blocked": sorted(b.blocked for b in blocked),
            }

    # -- blocks ---------------------------------------------------------------

    def add_block(self, blocker: str, blocked: str) -> None:
        with Session(self.engine) as s:
            if s.get(Block, (blocker, blocked)) is None:
                s.add(Block(blocker=blocker, blocked=blocked))
                s.commit()

    def blocks_of(self, members: Iterable[str]) -> set[frozenset[str]]:
        """Every block touching these members, in either direction, as pairs."""
        ids = list(members)
        if not ids:
            return set()
        with Session(self.engine) as s:
            rows = s.exec(select(Block).where(
                or_(col(Block.blocker).in_(ids), col(Block.blocked).in_(ids))
            )).all()
        return {frozenset((r.blocker, r.blocked)) for r in rows}

    # -- prompts --------------------------------------------------------------

    def seed_prompts(self, prompts: Iterable[Prompt]) -> None:
        """Add the deck's prompts that the store does not have yet."""
        for p in prompts:
            with Session(self.engine) as s:
                if s.get(PromptRow, p.id) is not None:
                    continue
                s.add(PromptRow(id=p.id, text=p.text, lang=p.lang))
                try:
                    s.commit()
                except IntegrityError:
                    # Another node starting at the same moment added it first.
                    s.rollback()

    def active_prompts(self) -> list[Prompt]:
        with Session(self.engine) as s:
            rows = s.exec(select(PromptRow).where(col(PromptRow.active))).all()
            return [Prompt(r.id, r.text, r.lang) for r in rows]

    def set_prompt(self, prompt: Prompt, active: bool, audit: AuditEntry | None = None) -> None:
        """Add a prompt, or change its text or whether members can choose it; with the
        moderator's audit entry in the same transaction."""
        with Session(self.engine) as s:
            row = s.get(PromptRow, prompt.id) or PromptRow(id=prompt.id, text=prompt.text)
            row.text, row.lang, row.active = prompt.text, prompt.lang, active
            s.add(row)
            if audit is not None:
                s.add(audit)
            s.commit()
