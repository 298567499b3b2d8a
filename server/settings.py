"""Settings for one node, built from the command line or by tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("bridgechat-data")
    database: str | None = None  # None: SQLite under data_dir
    redis: str | None = None  # None: the in-process broker
    deck: Path | None = None  # None: the default deck
    static_dir: Path | None = None  # None: the packaged client_web/
    public_url: str | None = None
    allowed_origins: tuple[str, ...] = ()
    # Matching: a pair that crosses no divide waits bridge_wait; any pair is matched by max_wait.
    bridge_wait: float = 2.0
    max_wait: float = 10.0
    tick: float = 0.25
    repeat_pair_after: float = 86400.0
    # A dropped member keeps their seat this long.
    grace_period: float = 60.0
    # Closed rooms stay known this long so members can still report.
    report_window: float = 600.0
    history: int = 500
    send_burst: float = 30.0
    send_rate: float = 5.0
    bad_frames_per_minute: int = 30
    outbox_frames: int = 512
    extra: dict[str, str] = field(default_factory=dict)
