"""A report over its whole life: filters, the author's other reports, suspensions.

The tables are in store/moderation.py, beside the report itself; this mixin
holds the queries. Authors appear only as pseudonyms (a keyed hash the
moderation package makes), and a suspension's member id only sealed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Literal

from sqlalchemy import delete, update
from sqlmodel import Session, col, or_, select

from bridgechat.store.base import StoreBase
from bridgechat.store.members import Member
from bridgechat.store.moderation import AuditEntry, ReportAuthor, ReportRow, SuspensionRow

Lifted = Literal["lifted", "unknown", "ended"]


class ReportLifeStore(StoreBase):
    """Reports by filter and by author, and the suspensions moderators gave."""

    # -- reports ----------------------------------------------------------------

    def add_report_about(self, row: ReportRow, authors: Iterable[str]) -> None:
        """Store a report with the pseudonyms of the members it is about."""
        with Session(self.engine, expire_on_commit=False) as s:
            s.add(row)
            s.add_all(ReportAuthor(report=row.id, author=a) for a in dict.fromkeys(authors))
            s.commit()

    def find_reports(self, status: str | None, reason: str | None, prompt: str | None,
                     limit: int) -> list[ReportRow]:
        """Newest first; each filter that is given must hold."""
        with Session(self.engine) as s:
            q = select(ReportRow)
            if status is not None:
                q = q.where(ReportRow.status == status)
            if reason is not None:
                q = q.where(ReportRow.reason == reason)
            if prompt is not None:
                q = q.where(ReportRow.prompt == prompt)
            return list(s.exec(q.order_by(col(ReportRow.created).desc()).limit(limit)).all())

    def authors_of(self, report_ids: Sequence[str]) -> dict[str, list[str]]:
        """report id -> its authors' pseudonyms, sorted."""
        out: dict[str, list[str]] = {}
        if not report_ids:
            return out
        with Session(self.engine) as s:
            for r in s.exec(select(ReportAuthor).where(col(ReportAuthor.report).in_(report_ids))
                            .order_by(col(ReportAuthor.author))).all():
                out.setdefault(r.report, []).append(r.author)
        return out

    def suspensions_of(self, report_ids: Sequence[str]) -> dict[str, list[str]]:
        """report id -> the ids of the suspensions it gave, oldest first."""
        out: dict[str, list[str]] = {}
        if not report_ids:
            return out
        with Session(self.engine) as s:
            for r in s.exec(select(SuspensionRow)
                            .where(col(SuspensionRow.report).in_(report_ids))
                            .order_by(col(SuspensionRow.since), col(SuspensionRow.id))).all():
                assert r.report is not None
                out.setdefault(r.report, []).append(r.id)
        return out

    def reports_by(self, authors: Sequence[str], besides: str, limit: int) -> list[ReportRow]:
        """Other reports about any of these authors, newest first."""
        if not authors:
            return []
        with Session(self.engine) as s:
            about = select(ReportAuthor.report).where(col(ReportAuthor.author).in_(authors))
            q = select(ReportRow).where(col(ReportRow.id).in_(about), ReportRow.id != besides)
            return list(s.exec(q.order_by(col(ReportRow.created).desc()).limit(limit)).all())

    def set_room_length(self, report_id: str, seconds: float) -> None:
        with Session(self.engine) as s:
            s.exec(update(ReportRow).where(col(ReportRow.id) == report_id)
                   .values(room_length=seconds))
            s.commit()

    # -- suspensions ------------------------------------------------------------

    def suspension(self, suspension_id: str) -> SuspensionRow | None:
        with Session(self.engine) as s:
            return s.get(SuspensionRow, suspension_id)

    def active_suspensions(self, now: float, author: str | None = None) -> list[SuspensionRow]:
        """Not lifted and not over (or indefinite), newest first; of one author if given."""
        with Session(self.engine) as s:
            q = select(SuspensionRow).where(
                col(SuspensionRow.lifted_at).is_(None),
                or_(col(SuspensionRow.until).is_(None), col(SuspensionRow.until) > now))
            if author is not None:
                q = q.where(SuspensionRow.author == author)
            return list(s.exec(q.order_by(col(SuspensionRow.since).desc())).all())

    def suspended_until(self, author: str, now: float) -> float | None:
        """When this author's last active suspension ends (inf: never); None if none is."""
        ends = [math.inf if r.until is None else r.until
                for r in self.active_suspensions(now, author)]
        return max(ends, default=None)

    def lift_suspension(self, suspension_id: str, by: str, now: float,
                        audit: AuditEntry | None = None) -> Lifted:
        """Lift an active suspension in one statement, so two moderators cannot both;
        with its audit entry in the same transaction."""
        with Session(self.engine) as s:
            done = s.exec(update(SuspensionRow).where(
                col(SuspensionRow.id) == suspension_id, col(SuspensionRow.lifted_at).is_(None),
                or_(col(SuspensionRow.until).is_(None), col(SuspensionRow.until) > now),
            ).values(lifted_at=now, lifted_by=by))
            if done.rowcount:
                if audit is not None:
                    s.add(audit)
                s.commit()
                return "lifted"
            return "ended" if s.get(SuspensionRow, suspension_id) is not None else "unknown"

    def purge_suspensions(self, ended_before: float, gone: Sequence[str] = ()) -> int:
        """Delete suspensions lifted or over before this time, and those listed in `gone`."""
        with Session(self.engine) as s:
            done = s.exec(delete(SuspensionRow).where(or_(
                col(SuspensionRow.lifted_at) < ended_before,
                col(SuspensionRow.until) < ended_before,
                col(SuspensionRow.id).in_(list(gone)))))
            s.commit()
            return int(done.rowcount)

    def existing_members(self, member_ids: Sequence[str]) -> set[str]:
        """Which of these members still have a row (not erased, not expired)."""
        if not member_ids:
            return set()
        with Session(self.engine) as s:
            return set(s.exec(select(Member.id).where(col(Member.id).in_(member_ids))).all())
