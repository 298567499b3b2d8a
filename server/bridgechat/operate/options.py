"""Every setting an operator can give, in one table: flag, environment variable, file key.

Each option is written once here and becomes three things: a flag of
`bridgechat serve` (``--send-rate``), an environment variable
(``BRIDGECHAT_SEND_RATE``) and a key of the TOML file given with ``--config``
(``send-rate = 5``). Its default is the `Settings` field's, so there is one
place for each number.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridgechat.core.barrier import MODES as BARRIERS
from bridgechat.settings import Settings

ENV_PREFIX = "BRIDGECHAT_"
LOOPS = ("auto", "asyncio", "uvloop")
DEFAULTS = Settings()


class OptionError(ValueError):
    """A value that cannot be used; the message names the option and says why."""


def text(value: str) -> str:
    return value


def whole(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise OptionError(f"must be a whole number, not {value!r}") from None
    if number < 1:
        raise OptionError(f"must be 1 or more, not {value!r}")
    return number


def port(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise OptionError(f"must be a port number from 0 to 65535, not {value!r}")
    return number


def positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not 0 < number < math.inf:
        raise OptionError(f"must be a number above zero, not {value!r}")
    return number


def not_negative(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not 0 <= number < math.inf:
        raise OptionError(f"must be zero or a number above it, not {value!r}")
    return number


def listen(value: str) -> str:
    host, sep, number = value.rpartition(":")
    if not sep or not host:
        raise OptionError(f"must be HOST:PORT (for example 127.0.0.1:9181), not {value!r}")
    port(number)
    return value


def origin(value: str) -> str:
    return value.strip().rstrip("/").lower()


def network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise OptionError(f"must be an IP address or network, not {value!r}") from None


def loop(value: str) -> str:
    if value not in LOOPS:
        raise OptionError(f"must be one of {', '.join(LOOPS)}, not {value!r}")
    return value


def barrier(value: str) -> str:
    if value not in BARRIERS:
        raise OptionError(f"must be one of {', '.join(BARRIERS)}, not {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Option:
    field: str  # the Settings field it sets
    parse: Callable[[str], Any]  # text (a flag, a variable) to value; raises OptionError
    help: str
    scale: float = 1.0  # the option is in days or hours, the field in seconds
    switch: bool = False  # a flag without a value (on when given)
    many: bool = False  # repeatable; comma-separated in the environment
    path: bool = False  # the field is a Path
    secret: bool = False  # a URL whose password is masked when shown
    hidden: bool = False  # for tests, not listed in --help
    called: str | None = None  # its name, where the field's own would read badly

    @property
    def name(self) -> str:
        """The flag without its dashes, and the key in the config file."""
        if self.called is not None:
            return self.called
        unit = {86400.0: "-days", 3600.0: "-hours"}.get(self.scale, "")
        return self.field.replace("_", "-") + unit

    @property
    def flag(self) -> str:
        return "--" + self.name

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.replace("-", "_").upper()

    def default(self) -> Any:
        """The value as the operator writes it (in days for a period in days)."""
        value = getattr(DEFAULTS, self.field)
        return value / self.scale if self.scale != 1.0 else value

    def to_field(self, value: Any) -> Any:
        """The operator's value as the Settings field holds it."""
        if value is None:
            return None
        if self.scale != 1.0:
            return value * self.scale
        if self.path:
            return Path(value)
        if self.many:
            return tuple(value)
        return value


def _o(field: str, parse: Callable[[str], Any], help: str, **kw: Any) -> Option:
    return Option(field, parse, help, **kw)


OPTIONS: tuple[Option, ...] = (
    _o("host", text, "address to listen on (0.0.0.0: every interface)"),
    _o("port", port, "port members connect to"),
    _o("data_dir", text, "directory for SQLite and the report key (made with mode 700)",
       path=True),
    _o("database", text, "SQLAlchemy URL, e.g. postgresql://user:pass@host/db "
       "(default: SQLite in the data dir)", secret=True),
    _o("redis", text, "redis:// URL shared by every node (default: the in-process broker)",
       secret=True),
    _o("deck", text, "prompt deck TOML file (default: the deck shipped with bridgechat)",
       path=True),
    _o("static_dir", text, "serve the member page from here", path=True, hidden=True),
    _o("public_url", text, "the URL members use, e.g. https://chat.example.org"),
    _o("allowed_origins", origin, "another Origin allowed to connect (repeatable)",
       many=True, called="allow-origin"),
    _o("metrics_listen", listen, "serve /metrics for Prometheus on HOST:PORT (off by "
       "default; never on the members' port)"),
    _o("loop", loop, "event loop: auto (uvloop when installed), asyncio or uvloop"),
    _o("bridge_wait", not_negative, "seconds a pair crossing no divide waits before matching"),
    _o("max_wait", positive, "seconds by which any compatible pair is matched"),
    _o("stuck_after", positive, "seconds before a member nobody can meet is told why"),
    _o("lobby_minutes", positive, "minutes before an event's start that its lobby opens"),
    _o("repeat_pair_after", not_negative, "seconds before the same two members meet again"),
    _o("grace_period", not_negative, "seconds a dropped member keeps their seat"),
    _o("conversation_minutes", not_negative,
       "length of a guided conversation (0: open-ended)"),
    _o("send_rate", positive, "messages per second a member may send, after a burst"),
    _o("send_burst", positive, "messages a member may send at once"),
    _o("first_day_burst", positive, "messages a member may send at once on the day they "
       "joined (at most --send-burst)"),
    _o("outbox_frames", whole, "frames queued for a member before they are dropped as too "
       "slow"),
    _o("max_connections", whole, "open member connections this node accepts; more are "
       "refused with 503 (keep the open-file limit above it)"),
    _o("connections_per_address", whole, "open member connections from one address (by "
       "keyed hash); more are closed with 1013"),
    _o("handshakes_per_minute", whole, "new member connections a minute from one address, "
       "after a burst of connections-per-address"),
    _o("new_members_per_hour", whole, "new members (hello without a token) an hour from one "
       "address"),
    _o("bot_barrier", barrier, "proof of work before join: auto (only while joins a minute "
       "pass --bot-barrier-per-minute), always or off"),
    _o("bot_barrier_per_minute", whole, "joins a minute on this node past which auto asks "
       "for a proof of work, harder as the flood grows"),
    _o("bot_barrier_seconds", positive, "seconds a proof-of-work challenge stays good",
       hidden=True),
    _o("trusted_proxies", network, "a reverse proxy (address or network) whose "
       "X-Forwarded-For is believed (repeatable)", many=True, called="trusted-proxy"),
    _o("heartbeat", positive, "seconds of silence before a member is pinged; no pong "
       "within half of that drops them"),
    _o("hello_timeout", positive, "seconds a new connection has to say hello before it is "
       "closed (checked with the heartbeat, every quarter of it)"),
    _o("require_invite", text, "members need an invite code to join", switch=True),
    _o("report_key_file", text, "file with the key that seals reports (default: env "
       "BRIDGECHAT_REPORT_KEY, else DATA_DIR/report.key, made once)", path=True),
    _o("moderator_idle", positive, "seconds of inactivity that end a moderator's session"),
    _o("login_window", positive, "seconds over which moderator sign-in attempts are counted"),
    _o("login_address_attempts", whole, "sign-in attempts from one address in the window; "
       "more get 429"),
    _o("login_name_attempts", whole, "sign-in attempts for one username in the window before "
       "its password checks slow down (never a lockout)"),
    _o("login_name_delay", not_negative, "seconds each password check waits, one at a time "
       "per username, once the username is past its attempts"),
    _o("login_name_queue", whole, "sign-ins that may wait in one username's slow lane; more "
       "get 503 busy"),
    _o("login_slow_queue", whole, "sign-ins that may wait in all slow lanes together"),
    _o("login_tracked", whole, "usernames, and addresses, the sign-in limits keep track of; "
       "past that, newcomers go to the slow lane"),
    _o("login_hash_workers", whole, "threads that check moderator passwords"),
    _o("login_hash_queue", whole, "password checks that may wait for a thread; more get 503 "
       "busy"),
    _o("member_retention", positive, "delete members not seen for this many days",
       scale=86400.0),
    _o("report_retention", positive, "delete reports this many days after they were "
       "resolved", scale=86400.0),
    _o("key_rotation", positive, "make a new franking key this often", scale=3600.0),
)

BY_NAME = {o.name: o for o in OPTIONS}
# The options that say where the data is: every command that opens the store takes them.
WHERE = ("data-dir", "database")
