"""Reports: sealed at rest with the operator's key, listed, opened and resolved.

A report keeps in the clear only what a list needs (reason code, how many
messages were verified, status, times). The evidence, the reporter's note
and the member ids behind it are sealed with AES-256-GCM under a key the
operator holds; the report id is bound in as associated data, so a sealed
blob moved to another row does not open. The node has already dropped every
message whose franking tag did not check out (`Node.verify_evidence`), so a
forged or altered line never reaches this module, let alone the disk.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bridgechat.core.protocol import iso
from bridgechat.core.room import Room
from bridgechat.moderation.suspensions import Suspensions
from bridgechat.node import Node
from bridgechat.node.parts import ReportDraft
from bridgechat.settings import Settings
from bridgechat.store.moderation import AuditEntry, ReportRow

log = logging.getLogger("bridgechat.moderation")

KEY_ENV = "BRIDGECHAT_REPORT_KEY"
KEY_FILE = "report.key"
KEY_BYTES = 32
NONCE_BYTES = 12
ACTIONS = ("dismiss", "warn", "suspend")
WARNING = ("A moderator reviewed a report about messages you sent. Please keep to the "
           "conversation guidelines: be respectful, even when you disagree. Another report "
           "may lead to a suspension.")


class ReportKeyError(Exception):
    """The configured report key cannot be used; the message says why in plain words."""


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise ReportKeyError(f"The report key in {where} is not 32 bytes in base64url "
                             f"(make one with: python -c \"import base64,os;"
                             f"print(base64.urlsafe_b64encode(os.urandom(32)).decode())\").")
    return key


def key_id(key: bytes) -> str:
    """A short fingerprint that names the key without revealing it."""
    return hashlib.sha256(b"bridgechat report key\x00" + key).hexdigest()[:16]


def load_key(settings: Settings) -> bytes:
    """--report-key-file, else BRIDGECHAT_REPORT_KEY, else DATA_DIR/report.key (made once)."""
    if settings.report_key_file is not None:
        path = settings.report_key_file
        try:
            return decode_key(path.read_text(), str(path))
        except OSError as exc:
            raise ReportKeyError(f"Cannot read the report key file {path}: "
                                 f"{exc.strerror}.") from None
    if os.environ.get(KEY_ENV):
        return decode_key(os.environ[KEY_ENV], KEY_ENV)
    path = settings.data_dir / KEY_FILE
    if path.exists():
        return decode_key(path.read_text(), str(path))
    key = secrets.token_bytes(KEY_BYTES)
    # O_EXCL: of two nodes starting at once on one data dir, one writes and the other reads.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        time.sleep(0.1)  # let the writer finish its one short line
        return decode_key(path.read_text(), str(path))
    with os.fdopen(fd, "w") as f:
        f.write(encode_key(key) + "\n")
    log.warning("generated a report key; keep a copy safe: without it, stored reports "
                "cannot be read", extra={"path": str(path)})
    return key


class Sealer:
    """AES-256-GCM with a fresh random nonce per report (and per restart file,
    node/restart.py); `label` (the report id) is bound in as associated data."""

    def __init__(self, key: bytes) -> None:
        self.aead = AESGCM(key)
        self.key_id = key_id(key)
        # A key of its own for pseudonyms, so no HMAC output is ever made under the AES key.
        self.pseudonym_key = hmac.digest(key, b"bridgechat author pseudonym v1", "sha256")

    def pseudonym(self, member: str) -> str:
        """A stable name for a reported member that reveals nothing about them.

        HMAC-SHA256 of the member id under a key derived from the report key: the same
        member is the same "m-..." in every report (so a moderator sees that one author
        was reported before), but without the key nobody can tell which member it is or
        test a guess. A new report key gives everyone new pseudonyms, as it should: the
        old reports cannot be opened either. 48 bits: no two authors among the reports
        kept for the retention period will share one."""
        return "m-" + hmac.digest(self.pseudonym_key, member.encode(), "sha256").hex()[:12]

    def seal(self, label: str, payload: dict[str, Any]) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return nonce + self.aead.encrypt(nonce, data, label.encode())

    def unseal(self, label: str, blob: bytes) -> dict[str, Any]:
        """What `seal(label, ...)` sealed; ReportKeyError if this key did not, or it changed."""
        try:
            data = self.aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], label.encode())
        except InvalidTag:
            raise ReportKeyError("This report cannot be opened: its sealed data is damaged or "
                                 "was changed.") from None
        payload: dict[str, Any] = json.loads(data)
        return payload

    def open(self, row: ReportRow) -> dict[str, Any]:
        if row.key_id != self.key_id:
            raise ReportKeyError("This report was sealed with another report key than the "
                                 "one this server was started with.")
        return self.unseal(row.id, row.sealed)


def summary(row: ReportRow) -> dict[str, Any]:
    return {"id": row.id, "reason": row.reason, "verified": row.verified,
            "status": row.status, "created": iso(row.created)}


def listed(row: ReportRow, authors: list[str], suspensions: list[str]) -> dict[str, Any]:
    """A row of the list: the summary, the prompt, who it is about, what suspension it gave.

    `author` is the first of `authors` (a report in a group room may be about several)."""
    return {**summary(row), "action": row.action, "prompt": row.prompt,
            "author": authors[0] if authors else None, "authors": authors,
            "suspension": suspensions[0] if suspensions else None,
            "suspensions": suspensions}


def room_length(room: Room) -> float | None:
    """Seconds from opening to closing; None while the room is open."""
    return None if room.closed_at is None else max(0.0, room.closed_at - room.created)


class Desk:
    """Where reports arrive (`sink`, plugged into the node) and are handled."""

    def __init__(self) -> None:
        self._node: Node | None = None
        self._sealer: Sealer | None = None
        self.suspensions = Suspensions(self)
        # Told of each new report: (id, reason, verified). live.py pushes it to dashboards.
        self.on_opened: list[Callable[[str, str, int], None]] = []
        self.on_resolved: list[Callable[[str], None]] = []

    def attach(self, node: Node, sealer: Sealer) -> None:
        self._node, self._sealer = node, sealer

    @property
    def node(self) -> Node:
        if self._node is None:
            raise RuntimeError("reports used before the server started")
        return self._node

    @property
    def sealer(self) -> Sealer:
        if self._sealer is None:
            raise RuntimeError("reports used before the server started")
        return self._sealer

    async def sink(self, draft: ReportDraft) -> str:
        report_id = secrets.token_urlsafe(12)
        payload = {
            "room": draft.room, "prompt": draft.prompt, "note": draft.note,
            "reporter": draft.reporter, "authors": list(draft.authors),
            "evidence": [{"seq": m.seq, "from": m.from_, "text": m.text, "ts": m.ts}
                         for m in draft.evidence],
        }
        room = await self.node.broker.rooms.room(draft.room)
        row = ReportRow(id=report_id, reason=draft.reason, verified=len(draft.evidence),
                        created=time.time(), key_id=self.sealer.key_id,
                        sealed=self.sealer.seal(report_id, payload), prompt=draft.prompt,
                        room_started=None if room is None else room.created,
                        room_length=None if room is None else room_length(room))
        authors = [self.sealer.pseudonym(m) for m in draft.authors]
        await self.node.db(self.node.store.add_report_about, row, authors)
        log.info("report opened", extra={"reason": draft.reason, "count": row.verified})
        for fn in self.on_opened:
            fn(report_id, draft.reason, row.verified)
        return report_id

    async def listing(self, status: str | None, reason: str | None = None,
                      prompt: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        store = self.node.store
        rows = await self.node.db(store.find_reports, status, reason, prompt, limit)
        ids = [r.id for r in rows]
        authors = await self.node.db(store.authors_of, ids)
        suspensions = await self.node.db(store.suspensions_of, ids)
        return [listed(r, authors.get(r.id, []), suspensions.get(r.id, [])) for r in rows]

    async def detail(self, report_id: str) -> dict[str, Any] | None:
        row = await self.node.db(self.node.store.report, report_id)
        if row is None:
            return None
        payload = self.sealer.open(row)
        store = self.node.store
        authors = (await self.node.db(store.authors_of, [row.id])).get(row.id, [])
        suspensions = (await self.node.db(store.suspensions_of, [row.id])).get(row.id, [])
        out = listed(row, authors, suspensions)
        earlier = await self.node.db(store.reports_by, authors, row.id, 50)
        out.update(prompt=payload["prompt"], note=payload["note"],
                   evidence=payload["evidence"],
                   resolution=None if row.action is None else {
                       "action": row.action, "by": row.resolved_by,
                       "at": iso(row.resolved_at or row.created)},
                   room=await self.room_of(row, payload["room"]),
                   earlier=[{**summary(r), "action": r.action} for r in earlier])
        return out

    async def room_of(self, row: ReportRow, room_id: str) -> dict[str, Any]:
        """The room's prompt, start and length; a length learnt since is kept for later."""
        length = row.room_length
        if length is None and row.room_started is not None:
            room = await self.node.broker.rooms.room(room_id)
            length = None if room is None else room_length(room)
            if length is not None:
                await self.node.db(self.node.store.set_room_length, row.id, length)
        return {"prompt": row.prompt, "started": None if row.room_started is None
                else iso(row.room_started), "length_s": length}

    async def resolve(self, report_id: str, action: str, by: str, days: float | None,
                      audit: AuditEntry | None = None) -> str | None:
        """Apply the action; None if done, else a stable code for what stood in the way.

        The report is marked resolved and its audit entry written in one transaction,
        before the warning or suspension is carried out: if the entry cannot be
        written, the report stays open and nobody is warned or suspended."""
        row = await self.node.db(self.node.store.report, report_id)
        if row is None:
            return "unknown_report"
        authors: list[str] = self.sealer.open(row)["authors"]
        if action != "dismiss" and not authors:
            return "nothing_verified"
        now = time.time()
        until = None if days is None else now + days * 86400.0
        given = [self.suspensions.record(member, report_id, by, now, until)
                 for member in authors] if action == "suspend" else []
        # Marked resolved first, in one statement: two moderators cannot both act on it.
        if not await self.node.db(self.node.store.close_report, report_id, action, by,
                                 now, audit, given):
            return "already_resolved"
        if action == "warn":
            for member in authors:
                await self.node.desk.warn(member, WARNING)
        if given:
            for member in authors:
                await self.suspensions.enforce(member, self.sealer.pseudonym(member))
        for fn in self.on_resolved:
            fn(report_id)
        return None

    async def purge(self, retention: float) -> None:
        gone = await self.node.db(self.node.store.purge_reports, time.time() - retention)
        if gone:
            log.info("resolved reports deleted after retention", extra={"count": gone})
        await self.suspensions.purge(retention)


DESK = web.AppKey("moderation_desk", Desk)
