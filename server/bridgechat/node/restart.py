"""Rooms that outlive a restart of the embedded default (one node, the in-process broker).

With Redis, rooms live in Redis and a node's restart loses nothing. With the
in-process broker they lived in this process: without this, a restart ended
every conversation without a word, and a report about a room that closed
just before was refused although the report window had not passed.

On a clean stop (the members' sockets are closed first, so every seat is
already "away" with its grace period running), the broker's rooms, pairs and
franking keys go to one file in the data dir, sealed with AES-256-GCM under
the report key; on start it is read, deleted at once, and put back. Members
who reconnect within their grace period find their rooms and resume (the
history is gone: `resumed.complete` is false); the others' seats time out as
if they had left. Message text is never in it: the history stays in RAM. A
crash writes nothing, and then the rooms are lost as before.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from bridgechat.broker.memory import MemoryBroker
from bridgechat.core.room import PRESENT, Room
from bridgechat.moderation.reports import ReportKeyError, Sealer

log = logging.getLogger("bridgechat.restart")
FILE = "restart.sealed"
# Bound into the seal as a report's id is: no report can pass for this file, nor it for one.
LABEL = "bridgechat restart"


def save(broker: MemoryBroker, data_dir: Path, key: bytes) -> None:
    """Seal the broker's state into the data dir (mode 600, written whole or not at all)."""
    state = broker.snapshot()
    sealed = Sealer(key).seal(LABEL, state)
    path, part = data_dir / FILE, data_dir / (FILE + ".part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(sealed)
    os.replace(part, path)
    log.info("rooms kept for the restart", extra={"rooms": len(state["rooms"]["rooms"])})


def load(broker: MemoryBroker, data_dir: Path, key: bytes) -> set[str]:
    """Put back what `save` kept, if anything; the file is gone afterwards. Returns the
    members still seated (not yet away) in a live room: the caller starts their grace."""
    path = data_dir / FILE
    try:
        sealed = path.read_bytes()
    except FileNotFoundError:
        return set()
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    try:
        data = Sealer(key).unseal(LABEL, sealed)
    except (ReportKeyError, ValueError):
        log.warning("the rooms kept for the restart cannot be read (another report key?); "
                    "they are lost")
        return set()
    broker.restore(data)
    rooms = [Room.restore(raw) for raw in data["rooms"]["rooms"]]
    log.info("rooms put back after the restart", extra={"rooms": len(rooms)})
    return {s.member for room in rooms if room.is_open
            for s in room.seats.values() if s.state is PRESENT}
