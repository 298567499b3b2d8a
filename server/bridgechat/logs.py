"""Structured logs: one JSON object a line, with only the fields we allow.

Why a whitelist: message text, profile answers, tokens and addresses must
never reach a log, so a field gets through only if it is named here. A log
call may pass counts, codes and reasons; anything else is dropped.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

ALLOWED = frozenset({
    "size", "divides", "reason", "code", "frame", "status", "path", "method", "rooms",
    "waiting", "url", "node", "what", "seconds", "count",
})
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key in ALLOWED and key not in _STANDARD:
                out[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The exception's type and where it happened, not its message:
            # a message could quote data a member sent.
            exc_type, _, tb = record.exc_info
            frames = []
            while tb is not None:
                frames.append(f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}")
                tb = tb.tb_next
            out["exception"] = exc_type.__name__
            out["where"] = frames[-3:]
        return json.dumps(out, default=str)


OURS = "bridgechat"
# Lines a library may write per kind of message a minute; the rest are counted, then
# summed up in one line, so a flood of bad requests cannot flood the disk.
BURST = 10


class Libraries(logging.Filter):
    """Other libraries' lines without their arguments, and at most BURST a minute of each.

    aiohttp writes "Error handling request from %s" with the client's address as
    the argument: the template stays, the address goes. Our own lines pass as
    they are (their fields are allow-listed by JsonFormatter).
    """

    def __init__(self, burst: int = BURST, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.burst, self.clock = burst, clock
        self.window = 0.0
        self.seen: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == OURS or record.name.startswith(OURS + "."):
            return True
        record.msg, record.args = str(record.msg), None
        now = self.clock()
        if now - self.window >= 60.0:
            dropped = sum(n - self.burst for n in self.seen.values() if n > self.burst)
            self.window, self.seen = now, {}
            if dropped:  # said on the next line that gets through
                record.count = dropped
                record.what = "library lines left out in the minute before"
        key = (record.name, record.msg)
        self.seen[key] = count = self.seen.get(key, 0) + 1
        return count <= self.burst


def setup_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(Libraries())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log would write client addresses; ours has none.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
