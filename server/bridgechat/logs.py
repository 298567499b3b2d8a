"""Structured logs: one JSON object a line, with only the fields we allow.

Why a whitelist: message text, profile answers, tokens and addresses must
never reach a log, so a field gets through only if it is named here. A log
call may pass counts, codes and reasons; anything else is dropped.
"""

from __future__ import annotations

import json
import logging
import sys
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


def setup_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log would write client addresses; ours has none.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
