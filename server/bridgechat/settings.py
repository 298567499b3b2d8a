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
    # Members nobody can be matched with are told why after this long.
    stuck_after: float = 30.0
    max_wait: float = 10.0
    # An event's lobby opens this many minutes before its start (docs/events.md).
    lobby_minutes: float = 15.0
    tick: float = 0.25
    repeat_pair_after: float = 86400.0
    # A dropped member keeps their seat this long.
    grace_period: float = 60.0
    # Closed rooms stay known this long so members can still report.
    report_window: float = 600.0
    history: int = 500
    # A guided conversation lasts this long (0: open-ended, no stages after the icebreaker).
    conversation_minutes: float = 20.0
    send_burst: float = 30.0
    # On the day a member joined: a script that signs up and sprays gets fewer at once.
    first_day_burst: float = 20.0
    send_rate: float = 5.0
    bad_frames_per_minute: int = 30
    outbox_frames: int = 512
    # A silent member is pinged after this many seconds, and dropped if no pong
    # comes within half of it (below a proxy's idle timeout, so it keeps the line open).
    heartbeat: float = 30.0
    # A connection that has not said hello this long after opening is closed (1008).
    hello_timeout: float = 10.0
    # Open member sockets past this are refused before the upgrade (503), so the
    # process never runs out of descriptors for its store, broker and health checks.
    max_connections: int = 10000
    # Per address (by keyed hash): open member sockets, and new ones a minute after a
    # burst of as many. Sized for a school or library behind one address.
    connections_per_address: int = 300
    handshakes_per_minute: int = 600
    # New members (a hello without a token writes a row kept for a year) per address an hour.
    new_members_per_hour: int = 120
    # The bot barrier before `join` (core/barrier.py): auto asks for a proof of work only
    # while this node gets bot_barrier_per_minute joins a minute or more; always, off.
    bot_barrier: str = "auto"
    bot_barrier_per_minute: int = 120
    bot_barrier_seconds: float = 120.0  # a challenge's life (for tests: not in --help)
    # Reverse proxies whose X-Forwarded-For names the member's address.
    trusted_proxies: tuple[str, ...] = ()
    loop: str = "auto"  # auto: uvloop when installed, else asyncio's own
    # Prometheus metrics on their own listener ("HOST:PORT"), never the members' port.
    metrics_listen: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # Moderation (server/moderation/): invites, the report key, moderator sessions.
    require_invite: bool = False
    report_key_file: Path | None = None  # None: env BRIDGECHAT_REPORT_KEY, else data_dir
    moderator_idle: float = 1800.0  # a session unused this long ends
    moderator_session: float = 43200.0  # and none outlives this
    # Sign-in limits (moderation/throttle.py, lanes.py; docs/moderation.md). Per address:
    # attempts in the window, then 429. Per username: attempts in the window, then its
    # checks wait in a slow lane (one at a time, each after the delay), never a lockout.
    login_window: float = 900.0
    login_address_attempts: int = 20
    login_name_attempts: int = 5
    login_name_delay: float = 1.0
    login_name_queue: int = 8  # waiting in one username's lane; more get 503 busy
    login_slow_queue: int = 64  # in every lane together
    login_tracked: int = 10_000  # usernames, and addresses, the limits keep apart
    login_hash_workers: int = 2  # threads checking passwords
    login_hash_queue: int = 16  # checks that may wait for them; more get 503 busy
    report_retention: float = 30 * 86400.0  # resolved reports are deleted after this
    # Privacy (privacy/routes.py, docs/privacy.md): retention periods and the job enforcing them.
    member_retention: float = 365 * 86400.0  # members not seen for this long are deleted
    key_rotation: float = 86400.0  # a new franking key this often
    retention_every: float = 600.0  # how often the retention job runs
