"""Moderators, their sessions, reports, invite codes and the audit log.

Nothing here is a secret in the clear: passwords are argon2id hashes,
session tokens and invite codes are SHA-256 hashes of 256- and 80-bit
random values, and a report's evidence is sealed (AES-GCM) before it gets
here. The audit table refuses UPDATE and DELETE in the database itself, so
the log stays append-only even for code that forgets the rule. A method that
carries out an action takes its `audit` entry and writes it in the same
transaction: the action and its entry are stored together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import DDL, delete, event, func, update
from sqlmodel import Field, Session, SQLModel, col, select

from bridgechat.store.base import StoreBase


class Moderator(SQLModel, table=True):
    username: str = Field(primary_key=True, max_length=64)
    role: str = Field(max_length=16)  # "moderator" or "admin"
    password_hash: str = Field(max_length=256)
    created: float


class ModeratorSession(SQLModel, table=True):
    __tablename__ = "moderator_session"
    token_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(index=True, max_length=64)
    created: float
    seen: float
    expires: float


class ReportRow(SQLModel, table=True):
    __tablename__ = "report"
    id: str = Field(primary_key=True, max_length=32)
    reason: str = Field(max_length=64)
    verified: int
    status: str = Field(default="open", index=True, max_length=16)
    created: float
    resolved_at: float | None = None
    resolved_by: str | None = Field(default=None, max_length=64)
    action: str | None = Field(default=None, max_length=16)
    # Which key sealed it, so a wrong key gives a clear error instead of garbage.
    key_id: str = Field(max_length=32)
    sealed: bytes
    # In the clear for the list's filters and the room's place in time; the room id
    # stays sealed. Null on reports filed before these columns existed.
    prompt: str | None = Field(default=None, index=True, max_length=64)
    room_started: float | None = None
    room_length: float | None = None  # seconds, once the room has closed


class ReportAuthor(SQLModel, table=True):
    """Who a report is about, as a pseudonym (moderation/reports.py `Sealer.pseudonym`):
    enough to find the same author's other reports, never a member id."""

    __tablename__ = "report_author"
    report: str = Field(primary_key=True, max_length=32)
    author: str = Field(primary_key=True, index=True, max_length=32)


class SuspensionRow(SQLModel, table=True):
    """One suspension as a moderator gave it; `member.suspended_until` is what is enforced.

    The member id is sealed (label: the suspension id) so lifting can find the member;
    in the clear are only the pseudonym, the report, the moderators and times."""

    __tablename__ = "suspension"
    id: str = Field(primary_key=True, max_length=32)
    author: str = Field(index=True, max_length=32)
    report: str | None = Field(default=None, index=True, max_length=32)
    by: str = Field(max_length=64)
    since: float
    until: float | None = None  # None: indefinitely
    lifted_at: float | None = None
    lifted_by: str | None = Field(default=None, max_length=64)
    key_id: str = Field(max_length=32)
    sealed: bytes


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit"
    id: int | None = Field(default=None, primary_key=True)
    at: float
    moderator: str = Field(max_length=64)
    action: str = Field(max_length=64)
    target: str = Field(max_length=128)
    note: str | None = Field(default=None, max_length=2000)


class InviteCode(SQLModel, table=True):
    __tablename__ = "invite"
    id: str = Field(primary_key=True, max_length=32)
    code_hash: str = Field(unique=True, index=True, max_length=64)
    label: str = Field(default="", max_length=200)
    max_uses: int | None = None  # None: unlimited
    uses: int = 0
    created: float
    created_by: str = Field(max_length=64)
    revoked: bool = False


_AUDIT = AuditEntry.__table__  # type: ignore[attr-defined]
for _verb in ("UPDATE", "DELETE"):
    event.listen(_AUDIT, "after_create", DDL(  # type: ignore[no-untyped-call]
        f"CREATE TRIGGER audit_no_{_verb.lower()} BEFORE {_verb} ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    ).execute_if(dialect="sqlite"))
event.listen(_AUDIT, "after_create", DDL(  # type: ignore[no-untyped-call]
    "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$; "
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
).execute_if(dialect="postgresql"))


class ModerationStore(StoreBase):
    """Moderator accounts and sessions, reports, invites, audit."""

    # -- accounts -------------------------------------------------------------

    def add_moderator(self, username: str, role: str, password_hash: str, now: float,
                      audit: AuditEntry | None = None) -> bool:
        """False when the name is taken."""
        with Session(self.engine) as s:
            if s.get(Moderator, username) is not None:
                return False
            s.add(Moderator(username=username, role=role, password_hash=password_hash,
                            created=now))
            if audit is not None:
                s.add(audit)
            s.commit()
            return True

    def remove_moderator(self, username: str, audit: AuditEntry | None = None) -> bool:
        """Delete the account and every session it holds."""
        with Session(self.engine) as s:
            m = s.get(Moderator, username)
            if m is None:
                return False
            for sess in s.exec(select(ModeratorSession).where(
                    ModeratorSession.username == username)).all():
                s.delete(sess)
            s.delete(m)
            if audit is not None:
                s.add(audit)
            s.commit()
            return True

    def moderator(self, username: str) -> Moderator | None:
        with Session(self.engine) as s:
            return s.get(Moderator, username)

    def moderators(self) -> list[tuple[str, str]]:
        with Session(self.engine) as s:
            rows = s.exec(select(Moderator).order_by(col(Moderator.username))).all()
            return [(m.username, m.role) for m in rows]

    def set_password_hash(self, username: str, password_hash: str) -> None:
        with Session(self.engine) as s:
            m = s.get(Moderator, username)
            if m is not None:
                m.password_hash = password_hash
                s.add(m)
                s.commit()

    # -- sessions -------------------------------------------------------------

    def create_session(self, token_hash: str, username: str, now: float, expires: float,
                       audit: AuditEntry | None = None) -> None:
        with Session(self.engine) as s:
            s.add(ModeratorSession(token_hash=token_hash, username=username, created=now,
                                   seen=now, expires=expires))
            if audit is not None:
                s.add(audit)
            s.commit()

    def session_account(self, token_hash: str, now: float, idle: float,
                        touch: bool) -> tuple[str, str, float] | None:
        """(username, role, expires) of a live session; an expired one is deleted."""
        with Session(self.engine) as s:
            sess = s.get(ModeratorSession, token_hash)
            if sess is None:
                return None
            m = s.get(Moderator, sess.username)
            if m is None or now >= sess.expires or now >= sess.seen + idle:
                s.delete(sess)
                s.commit()
                return None
            # Writes are throttled: one per quarter of the idle period is enough.
            if touch and now - sess.seen >= min(60.0, idle / 4):
                sess.seen = now
                s.add(sess)
                s.commit()
            return m.username, m.role, min(sess.expires, sess.seen + idle)

    def end_session(self, token_hash: str, audit: AuditEntry | None = None) -> None:
        with Session(self.engine) as s:
            sess = s.get(ModeratorSession, token_hash)
            if sess is not None:
                s.delete(sess)
            if audit is not None:
                s.add(audit)
            s.commit()

    def purge_sessions(self, now: float, idle: float) -> int:
        with Session(self.engine) as s:
            old = s.exec(select(ModeratorSession).where(
                (col(ModeratorSession.expires) <= now) | (col(ModeratorSession.seen) <= now - idle)
            )).all()
            for sess in old:
                s.delete(sess)
            s.commit()
            return len(old)

    # -- reports --------------------------------------------------------------

    def add_report(self, row: ReportRow) -> None:
        # expire_on_commit=False: the caller reads the row after it is stored.
        with Session(self.engine, expire_on_commit=False) as s:
            s.add(row)
            s.commit()

    def report(self, report_id: str) -> ReportRow | None:
        with Session(self.engine) as s:
            return s.get(ReportRow, report_id)

    def reports(self, status: str | None, limit: int) -> list[ReportRow]:
        """Newest first."""
        with Session(self.engine) as s:
            q = select(ReportRow)
            if status is not None:
                q = q.where(ReportRow.status == status)
            return list(s.exec(q.order_by(col(ReportRow.created).desc()).limit(limit)).all())

    def open_report_count(self) -> int:
        with Session(self.engine) as s:
            return int(s.exec(select(func.count()).select_from(ReportRow)
                              .where(ReportRow.status == "open")).one())

    def close_report(self, report_id: str, action: str, by: str, now: float,
                     audit: AuditEntry | None = None,
                     suspensions: Sequence[SuspensionRow] = ()) -> bool:
        """Mark an open report resolved; False if it was not open (no double action).

        The suspensions it gives are stored in the same transaction as the resolution."""
        with Session(self.engine) as s:
            done = s.exec(update(ReportRow)
                          .where(col(ReportRow.id) == report_id, col(ReportRow.status) == "open")
                          .values(status="resolved", action=action, resolved_by=by,
                                  resolved_at=now))
            if done.rowcount:
                s.add_all(suspensions)
                if audit is not None:
                    s.add(audit)
            s.commit()
            return bool(done.rowcount)

    def purge_reports(self, resolved_before: float) -> int:
        """Delete reports resolved before this time (docs/privacy.md: resolved, plus retention),
        with their authors' pseudonyms; a suspension they gave loses its link to them."""
        with Session(self.engine) as s:
            old = s.exec(select(ReportRow).where(
                ReportRow.status == "resolved", col(ReportRow.resolved_at) < resolved_before
            )).all()
            ids = [row.id for row in old]
            if ids:
                s.exec(delete(ReportAuthor).where(col(ReportAuthor.report).in_(ids)))
                s.exec(update(SuspensionRow).where(col(SuspensionRow.report).in_(ids))
                       .values(report=None))
            for row in old:
                s.delete(row)
            s.commit()
            return len(old)

    # -- audit ----------------------------------------------------------------

    def audit(self, moderator: str, action: str, target: str, note: str | None,
              now: float) -> None:
        with Session(self.engine) as s:
            s.add(AuditEntry(at=now, moderator=moderator, action=action, target=target,
                             note=note))
            s.commit()

    def audit_entries(self, limit: int, before: int | None) -> list[AuditEntry]:
        """Newest first; `before` pages back from an entry id."""
        with Session(self.engine) as s:
            q = select(AuditEntry)
            if before is not None:
                q = q.where(col(AuditEntry.id) < before)
            return list(s.exec(q.order_by(col(AuditEntry.id).desc()).limit(limit)).all())

    # -- invites --------------------------------------------------------------

    def add_invite(self, invite: InviteCode, audit: AuditEntry | None = None) -> None:
        # expire_on_commit=False: the caller reads the row after it is stored.
        with Session(self.engine, expire_on_commit=False) as s:
            s.add(invite)
            if audit is not None:
                s.add(audit)
            s.commit()

    def invites(self) -> list[InviteCode]:
        with Session(self.engine) as s:
            return list(s.exec(select(InviteCode)
                               .order_by(col(InviteCode.created).desc())).all())

    def use_invite(self, code_hash: str) -> bool:
        """Count one use of a live code in one statement, so two joins cannot share the last."""
        with Session(self.engine) as s:
            done = s.exec(update(InviteCode)
                          .where(col(InviteCode.code_hash) == code_hash,
                                 col(InviteCode.revoked).is_(False),
                                 col(InviteCode.max_uses).is_(None)
                                 | (col(InviteCode.uses) < col(InviteCode.max_uses)))
                          .values(uses=InviteCode.uses + 1))
            s.commit()
            return bool(done.rowcount)

    def revoke_invite(self, invite_id: str, audit: AuditEntry | None = None) -> bool:
        with Session(self.engine) as s:
            inv = s.get(InviteCode, invite_id)
            if inv is None or inv.revoked:
                return False
            inv.revoked = True
            s.add(inv)
            if audit is not None:
                s.add(audit)
            s.commit()
            return True
