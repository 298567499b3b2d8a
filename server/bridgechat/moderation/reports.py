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
import json
import logging
import math
import os
import secrets
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bridgechat.core.protocol import iso
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


class Desk:
    """Where reports arrive (`sink`, plugged into the node) and are handled."""

    def __init__(self) -> None:
        self._node: Node | None = None
        self._sealer: Sealer | None = None
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
        row = ReportRow(id=report_id, reason=draft.reason, verified=len(draft.evidence),
                        created=time.time(), key_id=self.sealer.key_id,
                        sealed=self.sealer.seal(report_id, payload))
        await self.node.db(self.node.store.add_report, row)
        log.info("report opened", extra={"reason": draft.reason, "count": row.verified})
        for fn in self.on_opened:
            fn(report_id, draft.reason, row.verified)
        return report_id

    async def listing(self, status: str | None, limit: int = 200) -> list[dict[str, Any]]:
        rows = await self.node.db(self.node.store.reports, status, limit)
        return [summary(r) for r in rows]

    async def detail(self, report_id: str) -> dict[str, Any] | None:
        row = await self.node.db(self.node.store.report, report_id)
        if row is None:
            return None
        payload = self.sealer.open(row)
        out = summary(row)
        out.update(prompt=payload["prompt"], note=payload["note"],
                   evidence=payload["evidence"],
                   resolution=None if row.action is None else {
                       "action": row.action, "by": row.resolved_by,
                       "at": iso(row.resolved_at or row.created)})
        return out

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
        # Marked resolved first, in one statement: two moderators cannot both act on it.
        if not await self.node.db(self.node.store.close_report, report_id, action, by,
                                 time.time(), audit):
            return "already_resolved"
        if action == "warn":
            for member in authors:
                await self.node.desk.warn(member, WARNING)
        elif action == "suspend":
            until = math.inf if days is None else time.time() + days * 86400.0
            for member in authors:
                await self.node.members.suspend(member, until)
        for fn in self.on_resolved:
            fn(report_id)
        return None

    async def purge(self, retention: float) -> None:
        gone = await self.node.db(self.node.store.purge_reports, time.time() - retention)
        if gone:
            log.info("resolved reports deleted after retention", extra={"count": gone})


DESK = web.AppKey("moderation_desk", Desk)
